"""The audit trail: who changed what through the console, when, on which connection and app.

Every write the console sends to a Clarifai API is recorded by the client's `on_call` hook
(`console.audit.recorder.hook`, set by `console.connections.clients.make_client`); who made it comes from
`console.audit.context` (set per web request by `AuditMiddleware`, per job by the job runner). Sign-ins,
connection changes and refused actions are recorded by `console.audit.signals` and the 403 page.
"""
