"""PostInputs records its inputs_add_job_id; GetInputsAddJob reports that job's progress from its inputs'
processing states, which is what the SDK's upload_dataset waits on before deleting what failed."""

from typing import Any

from clarifai_grpc.grpc.api import resources_pb2 as r
from clarifai_grpc.grpc.api import service_pb2 as s
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes

from console.localapi.models import App, Input
from tests.grpc.conftest import official_stub

MAIN = r.UserAppIDSet(app_id="main")


def text(input_id: str) -> r.Input:
    return r.Input(id=input_id, data=r.Data(text=r.Text(raw=input_id)))


def test_post_inputs_records_the_job_and_get_inputs_add_job_counts_its_inputs(
    grpc_url: str, token: str, main_app: App
) -> None:
    stub = official_stub(grpc_url)
    metadata = (("authorization", f"Key {token}"),)
    posted = stub.PostInputs(
        s.PostInputsRequest(user_app_id=MAIN, inputs=[text("a"), text("b"), text("c")], inputs_add_job_id="job-1"),
        metadata=metadata,
    )
    assert posted.status.code == codes.SUCCESS
    assert set(Input.objects.values_list("inputs_add_job_id", flat=True)) == {"job-1"}
    # As a worker leaves them part way: one still waiting, one being processed, one failed.
    Input.objects.filter(input_id="a").update(status_code=codes.INPUT_DOWNLOAD_PENDING)
    Input.objects.filter(input_id="b").update(status_code=codes.INPUT_DOWNLOAD_IN_PROGRESS)
    Input.objects.filter(input_id="c").update(status_code=codes.INPUT_DOWNLOAD_FAILED)

    def job() -> Any:
        answer = stub.GetInputsAddJob(s.GetInputsAddJobRequest(user_app_id=MAIN, id="job-1"), metadata=metadata)
        assert answer.status.code == codes.SUCCESS
        return answer.inputs_add_job

    running = job()
    assert running.id == "job-1"
    assert running.status.code == codes.JOB_RUNNING
    progress = running.progress
    assert (progress.pending_count, progress.in_progress_count, progress.success_count, progress.failed_count) == (
        1,
        1,
        0,
        1,
    )
    Input.objects.filter(input_id__in=["a", "b"]).update(status_code=codes.INPUT_DOWNLOAD_SUCCESS)
    done = job()
    assert done.status.code == codes.JOB_COMPLETED
    assert (done.progress.pending_count, done.progress.success_count, done.progress.failed_count) == (0, 2, 1)


def test_an_unknown_job_is_not_found_and_a_bad_job_id_writes_nothing(grpc_url: str, token: str, main_app: App) -> None:
    stub = official_stub(grpc_url)
    metadata = (("authorization", f"Key {token}"),)
    missing = stub.GetInputsAddJob(s.GetInputsAddJobRequest(user_app_id=MAIN, id="nope"), metadata=metadata)
    assert missing.status.code == codes.CONN_DOES_NOT_EXIST
    refused = stub.PostInputs(
        s.PostInputsRequest(user_app_id=MAIN, inputs=[text("a")], inputs_add_job_id="no spaces"), metadata=metadata
    )
    assert refused.status.code == codes.CONN_INVALID_REQUEST
    assert "inputs_add_job_id" in refused.status.details
    assert not Input.objects.exists()
