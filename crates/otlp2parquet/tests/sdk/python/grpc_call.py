"""One raw unary gRPC call with grpcio (the library under the Python SDK's gRPC exporter).

    grpc_call.py HOST:PORT METHOD_PATH MESSAGE_FILE none|gzip [AUTHORIZATION]

Sends the file's bytes as the request message (with `authorization` metadata when given) and
prints one JSON line: the status code (as an
int), the details text, whether google.rpc.Status details came back, and the response length.
"""
import json
import sys

import grpc


def main():
    target, method, path, compression = sys.argv[1:5]
    metadata = [("authorization", sys.argv[5])] if len(sys.argv) > 5 else None
    comp = {"none": grpc.Compression.NoCompression, "gzip": grpc.Compression.Gzip}[compression]
    with open(path, "rb") as f:
        message = f.read()
    with grpc.insecure_channel(target) as channel:
        call = channel.unary_unary(method)
        try:
            response, rendezvous = call.with_call(message, compression=comp, timeout=30,
                                                metadata=metadata)
            out = {"code": 0, "message": "", "details": False, "response_len": len(response)}
        except grpc.RpcError as e:
            trailers = dict(e.trailing_metadata() or ())
            out = {"code": e.code().value[0], "message": e.details() or "",
                   "details": "grpc-status-details-bin" in trailers, "response_len": 0}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
