"""ListInputs at 128 a page over gRPC and over REST, side by side: p50 and p90 time and bytes.

The gRPC server is the local API's own (`grpc_server.build`, what `manage.py grpcserve` runs) in this
process; the REST side is the HTTP server run.py starts (wsgiref, one request at a time). Both answer
through `dispatch.call` on the same database, so the difference is the transport and the encoding:
protobuf bytes against JSON. Clients: clarifai-grpc's own gRPC stub (the one the `clarifai` SDK uses),
httpx reading the JSON body without parsing it, and clarifai-grpc's own JSON client (which parses it
into the same message the gRPC stub returns).
"""

from typing import Any

import httpx
from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
from harness import ORIGIN, Target, Timing, measure, ms, table

from console.localapi import grpc_server

TITLE = "ListInputs over gRPC and REST"
PER_PAGE = 128


def _row(name: str, timing: Timing, size: int, returned: int) -> list[object]:
    return [name, returned, ms(timing.median), ms(timing.p90), f"{size:,}"]


def benchmark(target: Target) -> str:
    ids = resources_pb2.UserAppIDSet(user_id=target.user_id, app_id=target.app_id)
    request = service_pb2.ListInputsRequest(user_app_id=ids, page=1, per_page=PER_PAGE)
    metadata = (("authorization", target.authorization),)
    server, port = grpc_server.build("127.0.0.1:0", ORIGIN, threads=4)
    server.start()
    rows = []
    try:
        # Each stub right after its channel: a channel sets how the stubs built next read answers.
        stub = service_pb2_grpc.V2Stub(ClarifaiChannel.get_insecure_grpc_channel(base="127.0.0.1", port=port))
        answer = stub.ListInputs(request, metadata=metadata)
        rows.append(
            _row(
                "gRPC (clarifai-grpc stub)",
                measure(lambda: stub.ListInputs(request, metadata=metadata), target.runs),
                answer.ByteSize(),
                len(answer.inputs),
            )
        )
        if target.http_url:
            path = f"/v2/users/{target.user_id}/apps/{target.app_id}/inputs"
            query = {"page": "1", "per_page": str(PER_PAGE)}
            with httpx.Client(base_url=target.http_url, headers={"Authorization": target.authorization}) as client:
                body = client.get(path, params=query).raise_for_status().content

                def raw() -> Any:
                    return client.get(path, params=query).raise_for_status()

                timing = measure(raw, target.runs)
                rows.append(_row("REST (httpx, JSON unparsed)", timing, len(body), len(answer.inputs)))
            json_stub = service_pb2_grpc.V2Stub(ClarifaiChannel.get_json_channel(base_url=target.http_url))

            def parsed() -> Any:
                return json_stub.ListInputs(request, metadata=metadata)

            returned = len(parsed().inputs)
            rows.append(_row("REST (clarifai-grpc JSON client)", measure(parsed, target.runs), len(body), returned))
    finally:
        server.stop(None)
    headers = ["ListInputs, page 1, per_page 128", "inputs", "p50 ms", "p90 ms", "bytes"]
    note = (
        f"\n\n{target.runs} runs each after 3 warm-up calls; bytes: the protobuf message over gRPC, the JSON body"
        " over REST."
    )
    return table(headers, rows, right={1, 2, 3, 4}) + note
