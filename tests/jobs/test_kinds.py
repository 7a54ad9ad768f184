"""Each kind of job changes the inputs through the client, against the real local API in-process."""

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.contrib.auth.models import User

from console.clarifai import ClarifaiClient
from console.connections.models import Connection
from console.jobs.models import Job
from console.jobs.services import start_job
from console.localapi.models import DatasetInput, Input
from tests.jobs.conftest import concepts_of, ids, metadata_of, run


def test_add_concepts_labels_every_input_positive_or_negative(local: Connection, notes: str, staff: User) -> None:
    job = run(start_job(staff, local, notes, Job.ADD_CONCEPTS, {"concepts": ["star", "moon"], "value": 1}, ids(25)))
    assert job.state == Job.DONE
    assert all(concepts_of(notes, i) == {"star": 1.0, "moon": 1.0} for i in ids(25))

    run(start_job(staff, local, notes, Job.ADD_CONCEPTS, {"concepts": ["star"], "value": 0}, ids(3)))
    assert concepts_of(notes, "text-000") == {"star": 0.0, "moon": 1.0}
    assert concepts_of(notes, "text-003") == {"star": 1.0, "moon": 1.0}


def test_remove_concepts_takes_away_only_those(local: Connection, notes: str, staff: User) -> None:
    run(start_job(staff, local, notes, Job.ADD_CONCEPTS, {"concepts": ["star", "moon"], "value": 1}, ids(25)))
    job = run(start_job(staff, local, notes, Job.REMOVE_CONCEPTS, {"concepts": ["star"]}, ids(10)))
    assert job.state == Job.DONE and job.progress().done == 10
    assert concepts_of(notes, "text-000") == {"moon": 1.0}
    assert concepts_of(notes, "text-010") == {"star": 1.0, "moon": 1.0}


def test_set_metadata_merges_keys_nested_by_dots(local: Connection, notes: str, staff: User) -> None:
    Input.objects.filter(input_id="text-001").update(metadata={"keep": 1, "review": {"by": "ann"}})
    job = run(
        start_job(staff, local, notes, Job.SET_METADATA, {"metadata": {"split": "test", "review.ok": True}}, ids(5))
    )
    assert job.state == Job.DONE
    assert metadata_of(notes, "text-001") == {"keep": 1, "split": "test", "review": {"by": "ann", "ok": True}}
    assert metadata_of(notes, "text-000") == {"split": "test", "review": {"ok": True}}


def test_remove_metadata_keys_leaves_the_others(local: Connection, notes: str, staff: User) -> None:
    Input.objects.filter(input_id__in=ids(4)).update(metadata={"keep": 1, "split": "x", "review": {"by": "a", "ok": 1}})
    job = run(start_job(staff, local, notes, Job.REMOVE_METADATA, {"keys": ["split", "review.ok"]}, ids(4)))
    assert job.state == Job.DONE
    assert all(metadata_of(notes, i) == {"keep": 1, "review": {"by": "a"}} for i in ids(4))


def test_delete_inputs_deletes_them(local: Connection, notes: str, staff: User) -> None:
    job = run(start_job(staff, local, notes, Job.DELETE_INPUTS, {}, ids(10)))
    assert job.state == Job.DONE and job.progress().done == 10
    assert sorted(Input.objects.values_list("input_id", flat=True)) == ids(25)[10:]


def test_a_dataset_job_adds_the_inputs_and_skips_one_deleted_meanwhile(
    local: Connection, notes: str, staff: User, api: ClarifaiClient
) -> None:
    app = resources_pb2.UserAppIDSet(user_id="demo", app_id=notes)
    api.call(
        "PostDatasets", service_pb2.PostDatasetsRequest(user_app_id=app, datasets=[resources_pb2.Dataset(id="train")])
    )
    job = start_job(staff, local, notes, Job.ADD_TO_DATASET, {"dataset_id": "train"}, ids(5))
    api.call("DeleteInputs", service_pb2.DeleteInputsRequest(user_app_id=app, ids=["text-003"]))
    job = run(job)
    assert job.state == Job.DONE
    assert (job.progress().done, job.progress().skipped, job.progress().failed) == (4, 1, 0)
    assert job.failures.get().input_id == "text-003"
    added = DatasetInput.objects.filter(dataset__dataset_id="train").values_list("input__input_id", flat=True)
    assert sorted(added) == ["text-000", "text-001", "text-002", "text-004"]

    again = run(start_job(staff, local, notes, Job.ADD_TO_DATASET, {"dataset_id": "train"}, ids(3)))
    assert again.state == Job.DONE and again.progress().done == 3, "already there is what the job wanted"


def test_a_dataset_job_whose_dataset_is_gone_fails_each_input_with_the_apis_reason(
    local: Connection, notes: str, staff: User
) -> None:
    job = run(start_job(staff, local, notes, Job.ADD_TO_DATASET, {"dataset_id": "gone"}, ids(3)))
    assert job.state == Job.FAILED and job.progress().failed == 3
    failure = job.failures.first()
    assert failure is not None and failure.code and "gone" in failure.reason
