"""Sends OTLP/JSON logs over HTTPS without pause while the test replaces the server's
certificate files, and reports what it saw.

    rotate.py PORT CA_FILE STOP_FILE MAX_SECONDS
    rotate.py --serial PORT CA_FILE

Each round sends one request on a new connection (reading the certificate's serial number off
that handshake) and one on a kept-alive connection, until STOP_FILE exists or MAX_SECONDS pass.
Prints one JSON object: requests answered 200, failed requests (with the first errors), the
serials seen in order of first appearance, and how often the kept-alive connection was lost.
With --serial: prints the serial of one new connection and exits.
"""
import http.client
import json
import os
import ssl
import sys
import time


def body(i):
    record = {"timeUnixNano": str(time.time_ns()), "body": {"stringValue": f"rotation-{i}"}}
    return json.dumps({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "tls-rotation"}}]},
        "scopeLogs": [{"logRecords": [record]}],
    }]})


def connect(port, ctx):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    conn.connect()
    return conn


def post(conn, i):
    conn.request("POST", "/v1/logs", body=body(i), headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    return resp.status


def serial_of(conn):
    return conn.sock.getpeercert()["serialNumber"].lower().lstrip("0") or "0"


def main():
    if sys.argv[1] == "--serial":
        port, ca = int(sys.argv[2]), sys.argv[3]
        conn = connect(port, ssl.create_default_context(cafile=ca))
        print(serial_of(conn))
        return
    port, ca, stop_file, max_secs = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
    ctx = ssl.create_default_context(cafile=ca)
    ok, failed, errors, serials, lost = 0, 0, [], [], 0
    kept = connect(port, ctx)
    deadline = time.time() + max_secs
    i = 0
    while time.time() < deadline and not os.path.exists(stop_file):
        i += 1
        try:
            fresh = connect(port, ctx)
            serial = serial_of(fresh)
            if serial not in serials:
                serials.append(serial)
            status = post(fresh, 2 * i)
            fresh.close()
            if status == 200:
                ok += 1
            else:
                failed += 1
                errors.append(f"new connection: status {status}")
        except Exception as e:  # noqa: BLE001 - every failure is reported
            failed += 1
            errors.append(f"new connection: {e!r}")
        try:
            status = post(kept, 2 * i + 1)
            if status == 200:
                ok += 1
            else:
                failed += 1
                errors.append(f"kept-alive connection: status {status}")
        except (http.client.RemoteDisconnected, ConnectionError, ssl.SSLError) as e:
            lost += 1
            errors.append(f"kept-alive connection lost: {e!r}")
            kept = connect(port, ctx)
        time.sleep(0.02)
    print(json.dumps({"ok": ok, "failed": failed, "errors": errors[:5], "serials": serials,
                      "keepalive_lost": lost}))


if __name__ == "__main__":
    main()
