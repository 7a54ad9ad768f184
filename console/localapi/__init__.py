"""The embedded Clarifai-compatible API ("local API"), mounted at /v2/.

It knows nothing of the console: its own models (users, tokens, apps, inputs, concepts, datasets),
handlers that take a clarifai-grpc request message and return a response message, and thin transports
(REST over Django, and an in-process httpx transport) around those handlers.
"""
