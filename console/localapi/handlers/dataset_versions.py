"""Dataset versions and exports: PostDatasetVersions, ListDatasetVersions, GetDatasetVersion,
PatchDatasetVersions, DeleteDatasetVersions, ListDatasetVersionMetricsGroups, PutDatasetVersionExports.

A version is posted DATASET_VERSION_PENDING; a worker (console.localapi.dataset_tasks) takes its snapshot
and it becomes _IN_PROGRESS, then _READY with its metrics, or _FAILURE when the dataset has nothing to
freeze. PutDatasetVersionExports asks for archives of a version; asking again answers the same exports
with their status now (the official SDK polls this way), and asks again for one that failed.
"""

import secrets

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_pb2
from django.db import transaction
from google.protobuf import struct_pb2

from console.localapi import dataset_tasks, exports, status, tasks
from console.localapi.context import Context
from console.localapi.errors import ApiError, invalid, not_found
from console.localapi.handlers import rpc
from console.localapi.handlers.common import (
    check_id,
    get_app,
    merge_metadata,
    page_slice,
    patch_action,
    remove_metadata,
    struct_to_dict,
)
from console.localapi.handlers.datasets import get_dataset_or_404
from console.localapi.messages import dataset_version_message, export_message
from console.localapi.models import Dataset, DatasetVersion, DatasetVersionExport, Input

FORMAT_NAMES = resources_pb2.DatasetVersionExportFormat


def _messages(ctx: Context, dataset: Dataset, versions: list[DatasetVersion]) -> list[resources_pb2.DatasetVersion]:
    by_version: dict[int, list[DatasetVersionExport]] = {}
    for export in DatasetVersionExport.objects.filter(version__in=versions).order_by("format"):
        by_version.setdefault(export.version_id, []).append(export)
    for version in versions:
        version.dataset = dataset
    return [dataset_version_message(v, ctx.origin, by_version.get(v.pk, [])) for v in versions]


def _get_version(dataset: Dataset, version_id: str) -> DatasetVersion:
    version = dataset.versions.filter(version_id=version_id).first()
    if version is None:
        raise not_found(f"Dataset version {version_id!r} of dataset {dataset.dataset_id!r}")
    version.dataset = dataset
    return version


def _check_config(given: resources_pb2.DatasetVersion, where: str) -> bool:
    """Whether to leave out inputs without labels; refuses what the local API cannot select by."""
    if given.HasField("model_predict_config"):
        raise invalid(f"{where}: model_predict_config is not supported by the local API.")
    config = given.annotation_filter_config
    if config.HasField("annotation_filter") and config.annotation_filter.ListFields():
        raise invalid(
            f"{where}: annotation_filter_config.annotation_filter is not supported by the local API; "
            "a version takes every processed input of the dataset (ignore_empty_inputs may leave out unlabelled ones)."
        )
    return config.ignore_empty_inputs


@rpc("PostDatasetVersions", scope="Datasets:Add")
def post_dataset_versions(
    ctx: Context, request: service_pb2.PostDatasetVersionsRequest
) -> service_pb2.MultiDatasetVersionResponse:
    app = get_app(ctx, request.user_app_id)
    dataset = get_dataset_or_404(app, request.dataset_id)
    if not request.dataset_versions:
        raise invalid("Give at least one dataset version in dataset_versions.")
    rows = []
    for n, given in enumerate(request.dataset_versions):
        if given.id:
            check_id(given.id, "Dataset version id")
        rows.append(
            DatasetVersion(
                dataset=dataset,
                version_id=given.id or Input.new_id(),
                description=given.description,
                metadata=struct_to_dict(given.metadata),
                ignore_empty_inputs=_check_config(given, f"dataset_versions[{n}]"),
            )
        )
    ids = [row.version_id for row in rows]
    taken = list(dataset.versions.filter(version_id__in=ids).values_list("version_id", flat=True))
    if taken or len(set(ids)) != len(ids):
        raise ApiError(
            status.DATABASE_DUPLICATE_KEY,
            details=f"Dataset version {', '.join(sorted(taken) or ids)} already exists or is given twice.",
        )
    with transaction.atomic():
        for row in rows:
            row.save()
            tasks.enqueue(dataset_tasks.build_dataset_version, row.pk)
    # Read back: run eagerly (tests, or a worker quick off the mark) the version may have moved on already.
    fresh = {v.pk: v for v in DatasetVersion.objects.filter(pk__in=[r.pk for r in rows])}
    return service_pb2.MultiDatasetVersionResponse(
        dataset_versions=_messages(ctx, dataset, [fresh.get(r.pk, r) for r in rows])
    )


@rpc("ListDatasetVersions", scope="Datasets:Get")
def list_dataset_versions(
    ctx: Context, request: service_pb2.ListDatasetVersionsRequest
) -> service_pb2.MultiDatasetVersionResponse:
    """The dataset's versions, newest first."""
    app = get_app(ctx, request.user_app_id)
    dataset = get_dataset_or_404(app, request.dataset_id)
    versions = list(dataset.versions.order_by("-id")[page_slice(request.page, request.per_page)])
    return service_pb2.MultiDatasetVersionResponse(dataset_versions=_messages(ctx, dataset, versions))


@rpc("GetDatasetVersion", scope="Datasets:Get")
def get_dataset_version(
    ctx: Context, request: service_pb2.GetDatasetVersionRequest
) -> service_pb2.SingleDatasetVersionResponse:
    app = get_app(ctx, request.user_app_id)
    dataset = get_dataset_or_404(app, request.dataset_id)
    version = _get_version(dataset, request.dataset_version_id)
    return service_pb2.SingleDatasetVersionResponse(dataset_version=_messages(ctx, dataset, [version])[0])


@rpc("PatchDatasetVersions", scope="Datasets:Add")
def patch_dataset_versions(
    ctx: Context, request: service_pb2.PatchDatasetVersionsRequest
) -> service_pb2.MultiDatasetVersionResponse:
    """Only the description and metadata of a version change: its inputs are frozen. merge sets the
    description when given and merges metadata; overwrite replaces both; remove takes away metadata keys."""
    app = get_app(ctx, request.user_app_id)
    dataset = get_dataset_or_404(app, request.dataset_id)
    action = patch_action(request.action)
    if not request.dataset_versions:
        raise invalid("Give at least one dataset version in dataset_versions.")
    with transaction.atomic():
        ids = [v.id for v in request.dataset_versions]
        found = {v.version_id: v for v in dataset.versions.select_for_update().filter(version_id__in=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise not_found(f"Dataset version {', '.join(repr(m) for m in dict.fromkeys(missing))}")
        for patch in request.dataset_versions:
            version = found[patch.id]
            given = struct_to_dict(patch.metadata)
            if action == "overwrite":
                version.description, version.metadata = patch.description, given
            elif action == "merge":
                version.description = patch.description or version.description
                version.metadata = merge_metadata(version.metadata, given)
            else:
                version.metadata = remove_metadata(version.metadata, given)
            version.save(update_fields=["description", "metadata", "modified_at"])
    return service_pb2.MultiDatasetVersionResponse(dataset_versions=_messages(ctx, dataset, [found[i] for i in ids]))


@rpc("DeleteDatasetVersions", scope="Datasets:Delete")
def delete_dataset_versions(ctx: Context, request: service_pb2.DeleteDatasetVersionsRequest) -> status_pb2.BaseResponse:
    """Delete versions with their exports; the dataset and its inputs stay. All or nothing."""
    app = get_app(ctx, request.user_app_id)
    dataset = get_dataset_or_404(app, request.dataset_id)
    ids = list(request.dataset_version_ids)
    if not ids:
        raise invalid("Give the ids of the versions to delete in dataset_version_ids.")
    with transaction.atomic():
        found = {v.version_id: v for v in dataset.versions.select_for_update().filter(version_id__in=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise not_found(f"Dataset version {', '.join(repr(m) for m in dict.fromkeys(missing))}")
        keys = list(DatasetVersionExport.objects.filter(version__in=found.values()).values_list("key", flat=True))
        DatasetVersion.objects.filter(pk__in=[v.pk for v in found.values()]).delete()
        if keys:
            tasks.enqueue(dataset_tasks.delete_export_files, app.pk, keys)
    return status_pb2.BaseResponse()


@rpc("ListDatasetVersionMetricsGroups", scope="Datasets:Get")
def list_dataset_version_metrics_groups(
    ctx: Context, request: service_pb2.ListDatasetVersionMetricsGroupsRequest
) -> service_pb2.MultiDatasetVersionMetricsGroupResponse:
    """A ready version's counts by input type and by concept, as the official SDK reads them. Nothing
    while the version is being built (the SDK waits until there is something)."""
    app = get_app(ctx, request.user_app_id)
    dataset = get_dataset_or_404(app, request.dataset_id)
    version = _get_version(dataset, request.dataset_version_id)
    response = service_pb2.MultiDatasetVersionMetricsGroupResponse()
    if version.status_code != status.DATASET_VERSION_READY:
        return response
    groups = response.dataset_version_metrics_groups
    for kind, count in sorted(version.metrics.get("input_types", {}).items()):
        group = groups.add(parent_path="/", type=resources_pb2.DatasetVersionMetricsGroupType.INPUT_TYPE)
        group.value.CopyFrom(struct_pb2.Value(string_value=kind))
        group.metrics.inputs_count.value = count
    metrics = dataset_version_message(version, ctx.origin).metrics
    for concept_id in version.metrics.get("concepts", {}):
        group = groups.add(parent_path="/", type=resources_pb2.DatasetVersionMetricsGroupType.CONCEPT_ID)
        group.value.CopyFrom(struct_pb2.Value(string_value=concept_id))
        group.metrics.CopyFrom(metrics[f"/concepts/{concept_id}"])
    return response


@rpc("PutDatasetVersionExports", scope="Datasets:Get")
def put_dataset_version_exports(
    ctx: Context, request: service_pb2.PutDatasetVersionExportsRequest
) -> service_pb2.MultiDatasetVersionExportResponse:
    app = get_app(ctx, request.user_app_id)
    dataset = get_dataset_or_404(app, request.dataset_id)
    version = _get_version(dataset, request.dataset_version_id)
    if not request.exports:
        raise invalid("Give at least one export in exports, each with a format.")
    formats: list[int] = []
    for n, given in enumerate(request.exports):
        if given.format not in exports.FORMATS:
            raise invalid(
                f"exports[{n}]: the local API exports CLARIFAI_DATA_PROTOBUF and CLARIFAI_DATA_JSON, "
                f"not {FORMAT_NAMES.Name(given.format)}."
            )
        if given.include_embeddings:
            raise invalid(f"exports[{n}]: the local API has no embeddings to include.")
        formats.append(given.format)
    if version.status_code not in (*dataset_tasks.VERSION_UNFINISHED, status.DATASET_VERSION_READY):
        raise ApiError(
            status.DATASET_VERSION_FAILURE,
            details=f"Dataset version {version.version_id!r} failed ({version.status_details or 'no reason given'}); "
            "a failed version cannot be exported. Make a new version.",
        )
    with transaction.atomic():
        rows = []
        for fmt in dict.fromkeys(formats):
            export, created = DatasetVersionExport.objects.select_for_update().get_or_create(
                version=version, format=fmt, defaults={"key": secrets.token_hex(16), "origin": ctx.origin}
            )
            if not created and export.status_code in (status.EXPORT_FAILED, status.EXPORT_UNEXPECTED_ERROR):
                export.status_code, export.status_details, export.origin = status.EXPORT_PENDING, "", ctx.origin
                export.save(update_fields=["status_code", "status_details", "origin", "modified_at"])
                created = True
            if created:
                tasks.enqueue(dataset_tasks.build_export, export.pk)
            rows.append(export.pk)
    fresh = DatasetVersionExport.objects.in_bulk(rows)
    return service_pb2.MultiDatasetVersionExportResponse(
        exports=[export_message(fresh[pk], ctx.origin) for pk in _in_request_order(rows, formats, fresh)]
    )


def _in_request_order(pks: list[int], formats: list[int], rows: dict[int, DatasetVersionExport]) -> list[int]:
    by_format = {rows[pk].format: pk for pk in pks}
    return [by_format[fmt] for fmt in formats]
