"""An example source connector, speaking the seeds' JSON-lines protocol (one message per line).

  main.py spec                       the SPEC message: what the config must contain
  main.py check --config FILE        CONNECTION_STATUS: is the config usable
  main.py read --config FILE         RECORD messages built from the config

It knows nothing about gVisor: the image's entrypoint (gvshim run -- python3 /app/main.py) puts it
in the sandbox. `check` logs the kernel it sees, which inside gVisor is gVisor's (4.4.0).
"""
import json
import os
import sys

SPEC = {
    "documentationUrl": "https://example.invalid/gvshim-connector",
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "gvshim example source",
        "type": "object",
        "required": ["greeting", "count"],
        "additionalProperties": False,
        "properties": {
            "greeting": {"type": "string", "description": "text of every record"},
            "count": {"type": "integer", "minimum": 0, "maximum": 1000, "description": "how many records read emits"},
        },
    },
    "supportsNormalization": False,
    "supportsDBT": False,
}


def emit(message):
    print(json.dumps(message, separators=(",", ":")), flush=True)


def log(level, text):
    emit({"type": "LOG", "log": {"level": level, "message": text}})


def load_config(argv):
    """The file after --config, parsed and checked against SPEC's required fields."""
    if "--config" not in argv or argv.index("--config") + 1 >= len(argv):
        raise ValueError("missing --config FILE")
    path = argv[argv.index("--config") + 1]
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    if not isinstance(config.get("greeting"), str):
        raise ValueError(f"{path}: greeting must be a string")
    count = config.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 1000:
        raise ValueError(f"{path}: count must be an integer from 0 to 1000")
    return config


def main(argv):
    if not argv:
        print("usage: main.py spec | check --config FILE | read --config FILE", file=sys.stderr)
        return 2
    verb = argv[0]
    if verb == "spec":
        emit({"type": "SPEC", "spec": SPEC})
        return 0
    if verb == "check":
        log("INFO", f"kernel {os.uname().sysname} {os.uname().release}, uid {os.getuid()}")
        try:
            load_config(argv)
        except (OSError, ValueError) as e:
            emit({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "FAILED", "message": str(e)}})
            return 0
        emit({"type": "CONNECTION_STATUS", "connectionStatus": {"status": "SUCCEEDED"}})
        return 0
    if verb == "read":
        try:
            config = load_config(argv)
        except (OSError, ValueError) as e:
            emit({"type": "TRACE", "trace": {"type": "ERROR", "error": {"message": str(e)}}})
            return 1
        for i in range(config["count"]):
            emit({"type": "RECORD", "record": {"stream": "greetings", "data": {"id": i, "greeting": config["greeting"]}}})
        return 0
    print(f"main.py: unknown command {verb!r}; use spec, check or read", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
