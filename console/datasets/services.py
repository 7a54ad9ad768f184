"""Making a dataset for a selection of the inputs grid ("Add to a new dataset"): created before the job
that adds the inputs starts, so that the job has a dataset to add them to."""

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2
from django.core.exceptions import ValidationError

from console.apps.forms import clarifai_id
from console.clarifai import ClarifaiClient, ClarifaiError, ClarifaiStatusError

DUPLICATE = status_code_pb2.StatusCode.DATABASE_DUPLICATE_KEY


def create_dataset(client: ClarifaiClient, app_ids: resources_pb2.UserAppIDSet, dataset_id: str) -> str:
    """Create an empty dataset `dataset_id`; answer "" when it was made, else why not, in words."""
    try:
        clarifai_id(dataset_id)
    except ValidationError as e:
        return f"“{dataset_id}” cannot be a dataset id: {' '.join(e.messages)}"
    request = service_pb2.PostDatasetsRequest(user_app_id=app_ids, datasets=[resources_pb2.Dataset(id=dataset_id)])
    try:
        client.call("PostDatasets", request)
    except ClarifaiStatusError as e:
        if e.code == DUPLICATE:
            return f"Dataset {dataset_id} exists already: untick “new dataset” to add the inputs to it."
        return f"Could not create dataset {dataset_id}: {e.message}"
    except ClarifaiError as e:
        if e.outcome_unknown:
            return (
                f"The API did not confirm that dataset {dataset_id} was created ({e.message}); if it shows on the "
                "datasets page, add the inputs to it."
            )
        return f"Could not create dataset {dataset_id}: {e.message}"
    return ""
