"""Django's JSON fixture format, with timestamps to the microsecond.

``dumpdata --format=json`` writes datetimes through ``DjangoJSONEncoder``, which follows
ECMA-262 and keeps milliseconds only: every history timestamp would come back from a
restore a little different. This serializer writes them whole; the files are otherwise
plain JSON fixtures, which ``loaddata`` reads as ``.json`` (its parser keeps microseconds).
Registered by ``tracker.backup`` for the ``backup`` command only.
"""

import datetime

from django.core.serializers.json import Deserializer, DjangoJSONEncoder
from django.core.serializers.json import Serializer as JSONSerializer

__all__ = ["Deserializer", "ExactJSONEncoder", "Serializer"]


class ExactJSONEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


class Serializer(JSONSerializer):
    def _init_options(self) -> None:
        super()._init_options()
        self.json_kwargs["cls"] = ExactJSONEncoder
