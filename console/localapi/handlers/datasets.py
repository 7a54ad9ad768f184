"""Datasets, the first part: ListDatasets, GetDataset, PostDatasets (inputs join them by dataset_ids)."""

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from django.db import transaction

from console.localapi import status
from console.localapi.context import Context
from console.localapi.errors import ApiError, invalid, not_found
from console.localapi.handlers import rpc
from console.localapi.handlers.common import check_id, get_app, paginate, struct_to_dict
from console.localapi.messages import dataset_message
from console.localapi.models import App, Dataset


def _listing(datasets: list[Dataset], app: App) -> list[resources_pb2.Dataset]:
    for dataset in datasets:
        dataset.app = app
    return [dataset_message(d) for d in datasets]


@rpc("ListDatasets", scope="Datasets:Get")
def list_datasets(ctx: Context, request: service_pb2.ListDatasetsRequest) -> service_pb2.MultiDatasetResponse:
    app = get_app(ctx, request.user_app_id)
    datasets = app.datasets.order_by("-created_at", "-id")
    if request.search:
        datasets = datasets.filter(dataset_id__icontains=request.search)
    return service_pb2.MultiDatasetResponse(datasets=_listing(paginate(datasets, request.page, request.per_page), app))


@rpc("GetDataset", scope="Datasets:Get")
def get_dataset(ctx: Context, request: service_pb2.GetDatasetRequest) -> service_pb2.SingleDatasetResponse:
    app = get_app(ctx, request.user_app_id)
    dataset = app.datasets.filter(dataset_id=request.dataset_id).first()
    if dataset is None:
        raise not_found(f"Dataset {request.dataset_id!r}")
    return service_pb2.SingleDatasetResponse(dataset=_listing([dataset], app)[0])


@rpc("PostDatasets", scope="Datasets:Add")
def post_datasets(ctx: Context, request: service_pb2.PostDatasetsRequest) -> service_pb2.MultiDatasetResponse:
    app = get_app(ctx, request.user_app_id)
    if not request.datasets:
        raise invalid("Give at least one dataset in datasets.")
    ids = [d.id for d in request.datasets]
    for dataset_id in ids:
        check_id(dataset_id, "Dataset id")
    taken = list(app.datasets.filter(dataset_id__in=ids).values_list("dataset_id", flat=True))
    if taken or len(set(ids)) != len(ids):
        raise ApiError(
            status.DATABASE_DUPLICATE_KEY,
            details=f"Dataset {', '.join(sorted(taken) or ids)} already exists or is given twice.",
        )
    with transaction.atomic():
        created = [
            Dataset.objects.create(
                app=app, dataset_id=d.id, description=d.description, notes=d.notes, metadata=struct_to_dict(d.metadata)
            )
            for d in request.datasets
        ]
    return service_pb2.MultiDatasetResponse(datasets=_listing(created, app))
