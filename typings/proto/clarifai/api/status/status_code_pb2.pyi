# clarifai-grpc's .pyi files import their sibling modules by the name they were generated under,
# `proto.clarifai...`; this points that name at the installed module, so mypy sees the real types.
from clarifai_grpc.grpc.api.status.status_code_pb2 import *  # noqa: F403
