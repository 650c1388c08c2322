"""A fake S3 for the storage tests: moto's server mode (`ThreadedMotoServer`), a real HTTP server on the
loopback address that speaks the S3 protocol, so `S3Storage` goes through boto3, botocore's signing and
HTTP exactly as against a real bucket. It is a fake (moto), not AWS or MinIO: what it shows is that the
storage keeps the contract over the S3 API, not how a given provider behaves."""

from __future__ import annotations

import uuid

import boto3
import pytest
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
CREDENTIALS = {"S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing", "S3_REGION": REGION}


@pytest.fixture(scope="session")
def s3_endpoint():
    """The fake S3's address (one server for the test session, on a free loopback port)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_config(s3_endpoint) -> dict[str, str]:
    """Settings for STORAGE="s3" with a fresh, empty bucket on the fake S3."""
    bucket = f"techmarket-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=bucket)
    return {"STORAGE": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": s3_endpoint, **CREDENTIALS}
