"""Datasets and their inputs: ListDatasets, GetDataset, PostDatasets, PatchDatasets, DeleteDatasets,
ListDatasetInputs, GetDatasetInput, PostDatasetInputs, DeleteDatasetInputs.

Posting and patching datasets is atomic, as the real API's are. Adding inputs is not: each input given
gets its own status (DATASET_INPUT_SUCCESS, DATASET_INPUT_DUPLICATE when it was in the dataset already,
INPUT_DOES_NOT_EXIST), and the response is MIXED_STATUS when some are not in the dataset afterwards
(FAILURE when none is). An input there already is no failure, so a request sent again succeeds. Adding by a search is
a bulk operation (add_to_dataset) that a worker runs; the response carries it.
"""

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_pb2
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from console.localapi import bulk_tasks, status, tasks
from console.localapi.context import Context
from console.localapi.errors import ApiError, invalid, not_found
from console.localapi.handlers import rpc
from console.localapi.handlers.common import (
    check_id,
    get_app,
    merge_metadata,
    page_slice,
    paginate,
    patch_action,
    remove_metadata,
    struct_to_dict,
)
from console.localapi.messages import INPUT_RELATIONS, dataset_message, input_message, timestamp
from console.localapi.models import App, BulkOperation, Dataset, DatasetInput, DatasetVersion, Input
from console.localapi.query import search_inputs

MAX_INPUTS_PER_REQUEST = 128


def with_counts(datasets: "list[Dataset]") -> None:
    """Attach to each dataset its latest version (its metrics are the counts the proto carries)."""
    latest = {
        v.dataset_id: v
        for v in DatasetVersion.objects.filter(
            pk__in=Subquery(
                DatasetVersion.objects.filter(dataset=OuterRef("dataset")).order_by("-id").values("pk")[:1]
            ),
            dataset__in=datasets,
        )
    }
    for dataset in datasets:
        dataset.latest_version = latest.get(dataset.pk)  # type: ignore[attr-defined]


def _listing(datasets: list[Dataset], app: App, ctx: Context) -> list[resources_pb2.Dataset]:
    for dataset in datasets:
        dataset.app = app
    with_counts(datasets)
    return [dataset_message(d, getattr(d, "latest_version", None), ctx.origin) for d in datasets]


def get_dataset_or_404(app: App, dataset_id: str) -> Dataset:
    dataset = app.datasets.filter(dataset_id=dataset_id).first()
    if dataset is None:
        raise not_found(f"Dataset {dataset_id!r}")
    dataset.app = app
    return dataset


@rpc("ListDatasets", scope="Datasets:Get")
def list_datasets(ctx: Context, request: service_pb2.ListDatasetsRequest) -> service_pb2.MultiDatasetResponse:
    app = get_app(ctx, request.user_app_id)
    datasets = app.datasets.all()
    if request.search:
        datasets = datasets.filter(dataset_id__icontains=request.search)
    if request.id:
        datasets = datasets.filter(dataset_id=request.id)
    sort = request.WhichOneof("sort_by")
    field = {"sort_by_id": "dataset_id", "sort_by_modified_at": "modified_at"}.get(sort or "", "created_at")
    direction = "" if request.sort_ascending else "-"
    datasets = datasets.order_by(f"{direction}{field}", f"{direction}id")
    return service_pb2.MultiDatasetResponse(
        datasets=_listing(paginate(datasets, request.page, request.per_page), app, ctx)
    )


@rpc("GetDataset", scope="Datasets:Get")
def get_dataset(ctx: Context, request: service_pb2.GetDatasetRequest) -> service_pb2.SingleDatasetResponse:
    app = get_app(ctx, request.user_app_id)
    dataset = get_dataset_or_404(app, request.dataset_id)
    return service_pb2.SingleDatasetResponse(dataset=_listing([dataset], app, ctx)[0])


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
    return service_pb2.MultiDatasetResponse(datasets=_listing(created, app, ctx))


def _named(app: App, ids: list[str], what: str = "Dataset") -> dict[str, Dataset]:
    found = {d.dataset_id: d for d in app.datasets.select_for_update().filter(dataset_id__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise not_found(f"{what} {', '.join(repr(m) for m in dict.fromkeys(missing))}")
    return found


@rpc("PatchDatasets", scope="Datasets:Add")
def patch_datasets(ctx: Context, request: service_pb2.PatchDatasetsRequest) -> service_pb2.MultiDatasetResponse:
    """merge sets the fields given and merges metadata; overwrite replaces description, notes and metadata
    with what is given (empty clears them); remove takes away the metadata keys given. All or nothing."""
    app = get_app(ctx, request.user_app_id)
    action = patch_action(request.action)
    if not request.datasets:
        raise invalid("Give at least one dataset in datasets.")
    with transaction.atomic():
        found = _named(app, [d.id for d in request.datasets])
        for patch in request.datasets:
            dataset = found[patch.id]
            given = struct_to_dict(patch.metadata)
            if action == "overwrite":
                dataset.description, dataset.notes, dataset.metadata = patch.description, patch.notes, given
            elif action == "merge":
                dataset.description = patch.description or dataset.description
                dataset.notes = patch.notes or dataset.notes
                dataset.metadata = merge_metadata(dataset.metadata, given)
            else:
                dataset.metadata = remove_metadata(dataset.metadata, given)
            dataset.save(update_fields=["description", "notes", "metadata", "modified_at"])
    return service_pb2.MultiDatasetResponse(datasets=_listing([found[d.id] for d in request.datasets], app, ctx))


@rpc("DeleteDatasets", scope="Datasets:Delete")
def delete_datasets(ctx: Context, request: service_pb2.DeleteDatasetsRequest) -> status_pb2.BaseResponse:
    """Delete datasets with their versions and exports; the inputs stay. All or nothing."""
    app = get_app(ctx, request.user_app_id)
    if not request.dataset_ids:
        raise invalid("Give the ids of the datasets to delete in dataset_ids.")
    with transaction.atomic():
        found = _named(app, list(request.dataset_ids))
        keys = list(
            DatasetVersion.objects.filter(dataset__in=found.values())
            .exclude(exports__key=None)
            .values_list("exports__key", flat=True)
        )
        Dataset.objects.filter(pk__in=[d.pk for d in found.values()]).delete()
        if keys:
            from console.localapi import dataset_tasks

            tasks.enqueue(dataset_tasks.delete_export_files, app.pk, keys)
    return status_pb2.BaseResponse()


@rpc("ListDatasetInputs", scope="Inputs:Get")
def list_dataset_inputs(
    ctx: Context, request: service_pb2.ListDatasetInputsRequest
) -> service_pb2.MultiDatasetInputResponse:
    """The dataset's inputs, the most recently added first."""
    app = get_app(ctx, request.user_app_id)
    dataset = get_dataset_or_404(app, request.dataset_id)
    links = list(
        DatasetInput.objects.filter(dataset=dataset)
        .order_by("-created_at", "-id")
        .values_list("input_id", "created_at")[page_slice(request.page, request.per_page)]
    )
    items = Input.objects.filter(pk__in=[pk for pk, _ in links]).prefetch_related(*INPUT_RELATIONS).in_bulk()
    return service_pb2.MultiDatasetInputResponse(
        dataset_inputs=[
            resources_pb2.DatasetInput(created_at=timestamp(added), input=input_message(items[pk], ctx.origin))
            for pk, added in links
            if pk in items
        ]
    )


@rpc("GetDatasetInput", scope="Inputs:Get")
def get_dataset_input(
    ctx: Context, request: service_pb2.GetDatasetInputRequest
) -> service_pb2.SingleDatasetInputResponse:
    app = get_app(ctx, request.user_app_id)
    dataset = get_dataset_or_404(app, request.dataset_id)
    link = DatasetInput.objects.filter(dataset=dataset, input__input_id=request.input_id).first()
    if link is None:
        raise not_found(f"Input {request.input_id!r} in dataset {dataset.dataset_id!r}")
    item = Input.objects.prefetch_related(*INPUT_RELATIONS).get(pk=link.input_id)
    return service_pb2.SingleDatasetInputResponse(
        dataset_input=resources_pb2.DatasetInput(
            created_at=timestamp(link.created_at), input=input_message(item, ctx.origin)
        )
    )


@rpc("PostDatasetInputs", scope="Inputs:Patch")
def post_dataset_inputs(
    ctx: Context, request: service_pb2.PostDatasetInputsRequest
) -> service_pb2.MultiDatasetInputResponse:
    app = get_app(ctx, request.user_app_id)
    dataset = get_dataset_or_404(app, request.dataset_id)
    if request.HasField("search"):
        if request.dataset_inputs:
            raise invalid("Give dataset_inputs or search, not both.")
        return _add_by_search(ctx, app, dataset, request.search)
    if not request.dataset_inputs:
        raise invalid("Give the inputs to add in dataset_inputs (each with input.id), or a search.")
    if len(request.dataset_inputs) > MAX_INPUTS_PER_REQUEST:
        raise invalid(
            f"At most {MAX_INPUTS_PER_REQUEST} dataset inputs per request, not {len(request.dataset_inputs)}; "
            "add more with a search."
        )
    ids = [d.input.id for d in request.dataset_inputs]
    if not all(ids):
        raise invalid("Every dataset input needs input.id.")
    with transaction.atomic():
        items = {i.input_id: i for i in Input.objects.filter(app=app, input_id__in=ids)}
        already = set(
            DatasetInput.objects.filter(dataset=dataset, input__in=items.values()).values_list(
                "input__input_id", flat=True
            )
        )
        new = [items[i] for i in dict.fromkeys(ids) if i in items and i not in already]
        DatasetInput.objects.bulk_create([DatasetInput(dataset=dataset, input=item) for item in new])
        Input.objects.filter(pk__in=[i.pk for i in new]).update(modified_at=timezone.now())
    return _added_response(ctx, dataset, ids, items, already)


def _added_response(
    ctx: Context, dataset: Dataset, ids: list[str], items: dict[str, Input], already: set[str]
) -> service_pb2.MultiDatasetInputResponse:
    links = dict(
        DatasetInput.objects.filter(dataset=dataset, input__in=items.values()).values_list(
            "input__input_id", "created_at"
        )
    )
    loaded = Input.objects.filter(pk__in=[i.pk for i in items.values()]).prefetch_related(*INPUT_RELATIONS)
    by_id = {i.input_id: i for i in loaded}
    response = service_pb2.MultiDatasetInputResponse()
    seen: set[str] = set()
    failed = 0
    for input_id in ids:
        if input_id in by_id:
            entry = resources_pb2.DatasetInput(
                created_at=timestamp(links[input_id]), input=input_message(by_id[input_id], ctx.origin)
            )
            if input_id in already or input_id in seen:
                # Not a failure: the input is in the dataset, as asked, so a request sent again succeeds.
                entry.input.status.CopyFrom(
                    status.make(status.DATASET_INPUT_DUPLICATE, f"Input {input_id!r} is in the dataset already.")
                )
            else:
                entry.input.status.CopyFrom(status.make(status.DATASET_INPUT_SUCCESS))
        else:
            entry = resources_pb2.DatasetInput(input=resources_pb2.Input(id=input_id))
            entry.input.status.CopyFrom(
                status.make(status.INPUT_DOES_NOT_EXIST, f"There is no input {input_id!r} in this app.")
            )
            failed += 1
        seen.add(input_id)
        response.dataset_inputs.append(entry)
    if failed == len(ids):
        response.status.CopyFrom(
            status.make(status.FAILURE, f"None of the {len(ids)} inputs was added to dataset {dataset.dataset_id!r}.")
        )
    elif failed:
        response.status.CopyFrom(
            status.make(
                status.MIXED_STATUS,
                f"{len(ids) - failed} of {len(ids)} inputs are in dataset {dataset.dataset_id!r} now (added, or "
                "there already); each input's status says why the others are not.",
            )
        )
    return response


def _add_by_search(
    ctx: Context, app: App, dataset: Dataset, search: resources_pb2.Search
) -> service_pb2.MultiDatasetInputResponse:
    from console.localapi.handlers.bulk import _as_dict, _messages

    search_inputs(app, search)  # refuses what cannot be searched, now rather than in the worker
    with transaction.atomic():
        row = BulkOperation.objects.create(
            app=app,
            operation_id=Input.new_id(),
            created_by=ctx.user.id,
            source={"search": _as_dict(search)},
            operation={"add_to_dataset": {"dataset_id": dataset.dataset_id}},
        )
        tasks.enqueue(bulk_tasks.run_bulk_operation, row.pk)
    return service_pb2.MultiDatasetInputResponse(bulk_operation=_messages(app, [row.pk])[0])


@rpc("DeleteDatasetInputs", scope="Inputs:Patch")
def delete_dataset_inputs(ctx: Context, request: service_pb2.DeleteDatasetInputsRequest) -> status_pb2.BaseResponse:
    """Take inputs out of the dataset (they stay in the app); ids not in it are skipped."""
    app = get_app(ctx, request.user_app_id)
    dataset = get_dataset_or_404(app, request.dataset_id)
    if not request.input_ids:
        raise invalid("Give the ids of the inputs to take out of the dataset in input_ids.")
    with transaction.atomic():
        DatasetInput.objects.filter(dataset=dataset, input__input_id__in=list(request.input_ids)).delete()
    return status_pb2.BaseResponse()
