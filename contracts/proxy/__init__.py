"""``apitwin proxy``: a validating proxy in front of a real gateway.

Every exchange is forwarded unchanged (streams event by event), judged against the spec with the
same checks as ``apitwin check-traffic`` and the stream checks of ``apitwin fuzz``, and optionally
recorded as HAR for ``check-traffic`` and ``apitwin serve --replay``.
"""
