from tests.backend_servers import azurite, gcs_emulator, http_server, s3rver, s3rver_env, ssh_server
from tests.s3_endpoint import s3_bucket, s3_endpoint

__all__ = [
    "azurite",
    "gcs_emulator",
    "http_server",
    "s3_bucket",
    "s3_endpoint",
    "s3rver",
    "s3rver_env",
    "ssh_server",
]
