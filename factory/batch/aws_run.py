"""`batch run --engine stepfunctions`: the CSV to S3, the batch processor started, tracked.

The batch processor state machine (factory/infra/batch_processor.py) reads the
CSV from its bucket, so the engine's job is small: upload (multipart for big
files), start one execution with the mapping, and later read the execution's
status and its summary output (`{"batch_id", "rows", "counts", "csv_uri"}`).
The state machine and bucket come from flags or from the shared stack's
CloudFormation exports.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from factory import exports, safe_io
from factory.errors import AWS_REGION_HINT, FactoryError, Problem

INPUT_PREFIX = "inputs/"


@dataclass(frozen=True)
class AwsTarget:
    state_machine_arn: str
    bucket: str


def discover_target(cloudformation: Any, env_name: str, state_machine_arn: str | None,
                    bucket: str | None) -> AwsTarget:
    """Flags win; anything not given is read from the shared stack's exports."""
    if state_machine_arn and bucket:
        return AwsTarget(state_machine_arn, bucket)
    wanted = {
        exports.export_name(env_name, exports.BATCH_PROCESSOR_STATE_MACHINE_ARN): "arn",
        exports.export_name(env_name, exports.BATCH_BUCKET_NAME): "bucket",
    }
    found: dict[str, str] = {}
    for page in cloudformation.get_paginator("list_exports").paginate():
        for export in page.get("Exports", []):
            if export["Name"] in wanted:
                found[wanted[export["Name"]]] = export["Value"]
    arn = state_machine_arn or found.get("arn")
    bucket = bucket or found.get("bucket")
    if not arn or not bucket:
        missing = [name for name, key in wanted.items() if key not in found]
        raise FactoryError(Problem(
            "cloudformation", "$", "shared-stack",
            f"the shared stack's exports are missing for env {env_name!r}: " + ", ".join(missing),
            # The README's deploy line, for this environment; quoted, as the person pastes it into a shell.
            f"deploy the shared stack (cd generated && npx cdk deploy --all -c {shlex.quote('env=' + env_name)})"
            " or pass --state-machine-arn and --bucket",
        ))
    return AwsTarget(arn, bucket)


def execution_name(csv_path: Path) -> str:
    """Unique, readable, and within Step Functions' 80-character name limit."""
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", csv_path.stem)[:40]
    return f"{stem}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class S3Object:
    """A CSV already in S3 (a checked `s3://bucket/key`), which the batch processor can read without an upload."""

    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def stage_csv(s3: Any, target: AwsTarget, csv: Path | S3Object, name: str) -> str:
    """The CSV's key in the batch bucket, the only bucket the batch processor reads: a local file is uploaded
    (multipart above 8 MB, by boto3's transfer manager), an object elsewhere copied server side."""
    key = f"{INPUT_PREFIX}{name}.csv"
    if isinstance(csv, S3Object):
        if csv.bucket == target.bucket:
            return csv.key
        s3.copy({"Bucket": csv.bucket, "Key": csv.key}, target.bucket, key)
        return key
    try:
        with safe_io.open_stream(csv) as handle:
            s3.upload_fileobj(handle, target.bucket, key)
    except OSError as err:
        raise FactoryError(Problem(csv.as_posix(), "$", "upload", f"cannot read: {err.strerror}", "")) from None
    return key


def start_batch(s3: Any, sfn: Any, target: AwsTarget, csv: Path | S3Object, mapping: dict[str, Any],
                agent_name: str, max_concurrency: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Stage the CSV and start the batch processor with our request, the one both front ends send;
    `extra` carries a target we did not make, its mapping, and a caller's tracking id."""
    name = execution_name(Path(csv.key) if isinstance(csv, S3Object) else csv)
    key = stage_csv(s3, target, csv, name)
    request = {"csv_key": key, "mapping": mapping, "agent_name": agent_name, "max_concurrency": max_concurrency,
               **(extra or {})}
    started = sfn.start_execution(stateMachineArn=target.state_machine_arn, name=name,
                                  input=json.dumps(request, ensure_ascii=False))
    return {"execution_arn": started["executionArn"], "execution_name": name, "start_date": started["startDate"],
            "csv_uri": f"s3://{target.bucket}/{key}", "request": request}


def execution_status(sfn: Any, execution_arn: str) -> dict[str, Any]:
    described = sfn.describe_execution(executionArn=execution_arn)
    status: dict[str, Any] = {"execution_arn": execution_arn, "state": described["status"]}
    if described.get("output"):
        status["summary"] = json.loads(described["output"])
    if described.get("error") or described.get("cause"):
        status["error"] = described.get("error")
        status["cause"] = described.get("cause")
    return status


def download_results(s3: Any, sfn: Any, execution_arn: str, out_path: Path) -> dict[str, Any]:
    status = execution_status(sfn, execution_arn)
    uri = (status.get("summary") or {}).get("csv_uri")
    if status["state"] != "SUCCEEDED" or not uri:
        raise FactoryError(Problem(execution_arn, "$", "not-finished",
                                   f"the execution is {status['state']}; no results CSV yet",
                                   "wait for it: schema-factory batch status " + execution_arn))
    bucket, _, key = uri[len("s3://"):].partition("/")
    download(s3, bucket, key, out_path)
    return status


def download(s3: Any, bucket: str, key: str, out_path: Path) -> None:
    """An S3 object written to `out_path` through the one safe write (boto3's own writer follows links)."""
    safe_io.write_stream(out_path, lambda handle: s3.download_fileobj(bucket, key, handle))


@dataclass(frozen=True)
class AwsOptions:
    """Where the AWS side of a batch is: every flag of `aws_options`, typed."""

    env_name: str = "dev"
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    state_machine_arn: str | None = None
    bucket: str | None = None


ENGINE_ALTERNATIVE = "run with --engine local"  # for the Step Functions engine's own calls
AGENT_ALTERNATIVE = "call a local agent with --invoke"  # for the local engine's calls of an agent on AWS


@contextlib.contextmanager
def aws_errors(where: str, alternative: str = ENGINE_ALTERNATIVE) -> Iterator[None]:
    """botocore's configuration and service failures as one line that says what to do, not a traceback.

    `alternative` is the way round AWS that applies to the caller: the local
    engine's own agent calls are already local, so they suggest a local agent.
    """
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    try:
        yield
    except NoRegionError:
        raise FactoryError(Problem(where, "$", "aws-region", "no AWS region configured",
                                   f"{AWS_REGION_HINT}, or {alternative}")) from None
    except (NoCredentialsError, PartialCredentialsError) as err:
        raise FactoryError(Problem(where, "$", "aws-credentials", str(err),
                                   f"configure AWS credentials (or pass --profile), or {alternative}")) from None
    except ProfileNotFound as err:
        raise FactoryError(Problem("--profile", "$", "aws-profile", str(err), "check ~/.aws/config")) from None
    except ClientError as err:
        error = err.response.get("Error", {})
        raise FactoryError(Problem(where, "$", "aws", f"{error.get('Code', 'ClientError')}: "
                                   f"{error.get('Message', err)}", "check the AWS account, region and names")) from None
    except BotoCoreError as err:
        raise FactoryError(Problem(where, "$", "aws", str(err),
                                   f"configure AWS credentials (or pass --profile), or {alternative}")) from None


def aws_client(options: AwsOptions, service: str, alternative: str = ENGINE_ALTERNATIVE) -> Any:
    import boto3
    from botocore.config import Config

    with aws_errors(service, alternative):
        session = boto3.session.Session(profile_name=options.profile, region_name=options.region)
        return session.client(service, endpoint_url=options.endpoint_url,
                              config=Config(retries={"mode": "adaptive", "max_attempts": 5}, connect_timeout=5))


def is_execution_arn(batch_id: str) -> bool:
    return batch_id.startswith("arn:") and ":execution:" in batch_id


# What a tool input (written by a model) may name on the AWS side: an execution of a
# state machine, and an object in a bucket; nothing else gets near a boto3 call.
EXECUTION_ARN = re.compile(
    r"^arn:aws(-[a-z]+)*:states:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:execution:[A-Za-z0-9_-]{1,80}:[A-Za-z0-9_-]{1,80}\Z"
)
S3_URI = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/([^\x00-\x1f\x7f]{1,1024})\Z")


def valid_execution_arn(value: str, where: str) -> str:
    if not EXECUTION_ARN.fullmatch(value):
        raise ValueError(f"{where}: not a Step Functions execution ARN: {value!r}")
    return value


def parse_s3_uri(value: str, where: str) -> tuple[str, str]:
    """(bucket, key) of `s3://bucket/key`; anything else (another scheme, no key, control characters) is refused."""
    match = S3_URI.fullmatch(value)
    if match is None or ".." in match.group(1):
        raise ValueError(f"{where}: not an S3 URI of the form s3://bucket/key: {value!r}")
    return match.group(1), match.group(2)


def state_machine_of(execution_arn: str) -> str:
    """The state machine ARN an execution ARN belongs to."""
    head, _, _name = execution_arn.rpartition(":")
    return head.replace(":execution:", ":stateMachine:", 1)
