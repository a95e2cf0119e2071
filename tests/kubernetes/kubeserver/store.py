# store.py: the pods the server knows, with resourceVersions and a watch history, under one lock.
"""Every change bumps one global resourceVersion (as etcd's revision does),
stamps it on the object and appends an event (ADDED, MODIFIED, DELETED) to
the history that watches replay from a resourceVersion. Records hold the
kubelet's private state beside the API object."""
import copy
import datetime
import secrets
import threading
import uuid

from . import status

HISTORY_LIMIT = 20000
NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'   # apiserver's names.SimpleNameGenerator


def now_rfc3339(offset_seconds=0):
    moment = datetime.datetime.now(datetime.timezone.utc) + \
        datetime.timedelta(seconds=offset_seconds)
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


class PodRecord:
    def __init__(self, obj):
        self.obj = obj
        self.created = None          # time.monotonic() of creation
        self.containers = {}         # container name -> docker id
        self.deleting = False        # DELETE seen (graceful or not)
        self.removed = False         # gone from the API
        self.terminal = False        # Succeeded/Failed: the kubelet does nothing more
        self.volume_dir = None       # host directory of the pod's emptyDir volumes

    @property
    def namespace(self):
        return self.obj['metadata']['namespace']

    @property
    def name(self):
        return self.obj['metadata']['name']

    @property
    def uid(self):
        return self.obj['metadata']['uid']


class PodStore:
    def __init__(self):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.pods = {}
        self.rv = 1
        self.history = []            # (rv, type, object snapshot, previous snapshot or None)
        self.closed = False

    def _bump(self, record):
        self.rv += 1
        record.obj['metadata']['resourceVersion'] = str(self.rv)
        return self.rv

    def _event(self, kind, obj, previous):
        self.history.append((self.rv, kind, copy.deepcopy(obj), previous))
        if len(self.history) > HISTORY_LIMIT:
            del self.history[:len(self.history) - HISTORY_LIMIT]
        self.changed.notify_all()

    def add(self, namespace, obj):
        """Names (generateName), stamps and stores a decoded, validated pod;
        409 if the name is taken (also by a pod that is still Terminating)."""
        meta = obj['metadata']
        with self.lock:
            if not meta.get('name') and meta.get('generateName'):
                meta['name'] = meta['generateName'] + ''.join(
                    secrets.choice(NAME_ALPHABET) for _ in range(5))
            key = (namespace, meta['name'])
            if key in self.pods:
                raise status.already_exists('pods', meta['name'])
            meta['namespace'] = namespace
            meta['uid'] = str(uuid.uuid4())
            meta['creationTimestamp'] = now_rfc3339()
            record = PodRecord(obj)
            self.pods[key] = record
            self._bump(record)
            self._event('ADDED', obj, None)
            return record

    def get(self, namespace, name):
        with self.lock:
            record = self.pods.get((namespace, name))
            if record is None:
                raise status.not_found('pods', name)
            return record

    def snapshot(self, record):
        with self.lock:
            return copy.deepcopy(record.obj)

    def list(self, namespace=None):
        """(objects, resourceVersion), sorted by namespace then name."""
        with self.lock:
            items = [copy.deepcopy(r.obj) for (ns, _), r in sorted(self.pods.items())
                     if namespace is None or ns == namespace]
            return items, str(self.rv)

    def records(self):
        with self.lock:
            return list(self.pods.values())

    def mutate(self, record, change):
        """Applies change(obj) under the lock and records MODIFIED; nothing if
        the pod is gone. Returns the new snapshot or None."""
        with self.lock:
            if record.removed:
                return None
            previous = copy.deepcopy(record.obj)
            change(record.obj)
            if record.obj == previous:
                return previous
            self._bump(record)
            self._event('MODIFIED', record.obj, previous)
            return copy.deepcopy(record.obj)

    def remove(self, record):
        with self.lock:
            if record.removed:
                return None
            record.removed = True
            self.pods.pop((record.namespace, record.name), None)
            previous = copy.deepcopy(record.obj)
            self._bump(record)
            self._event('DELETED', record.obj, previous)
            return copy.deepcopy(record.obj)

    def close(self):
        with self.lock:
            self.closed = True
            self.changed.notify_all()
