"""Tracking what recipients do with a drill mail: the hit endpoints, the stored events, the classifier.

- ``hits``: one indexed lookup and one INSERT per hit (``record_hit``), nothing else.
- ``views`` + ``urls``: the endpoints the mail's links point to (``/c/ /q/ /a/ /o/ /x/ /cf/``).
- ``wsgi``: the lean WSGI path that serves those endpoints without the full middleware stack.
- ``classifier``: a worker handler deciding, a little later, whether each hit was a person or a machine.
- ``addresses``: the client address as the organization's privacy setting allows it to be stored.

Why the hot path looks the way it does: ``docs/decisions/0003-tracking-hot-path.md``.
"""
