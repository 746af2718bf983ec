#!/usr/bin/env python3
"""A minimal SMTP sink on 127.0.0.1 (stdlib sockets + threads, no smtpd): accepts
every message, keeps nothing but a count. Usage: smtp_sink.py PORT [COUNT_FILE]
The count (messages accepted so far) is rewritten to COUNT_FILE every 0.2 s."""
import socket, sys, threading, time

port = int(sys.argv[1])
count_file = sys.argv[2] if len(sys.argv) > 2 else None
accepted = 0
lock = threading.Lock()


def session(conn):
    global accepted
    f = conn.makefile("rb")
    w = lambda s: conn.sendall(s.encode() + b"\r\n")
    try:
        w("220 sink ESMTP")
        while True:
            line = f.readline()
            if not line:
                return
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO"):
                conn.sendall(b"250-sink\r\n250-8BITMIME\r\n250-PIPELINING\r\n250 SIZE 10485760\r\n")
            elif cmd.startswith(b"HELO"):
                w("250 sink")
            elif cmd.startswith(b"DATA"):
                w("354 go ahead")
                while True:
                    l = f.readline()
                    if not l or l in (b".\r\n", b".\n"):
                        break
                with lock:
                    accepted += 1
                w("250 2.0.0 queued")
            elif cmd.startswith(b"QUIT"):
                w("221 bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP, ...
                w("250 ok")
    except OSError:
        pass
    finally:
        conn.close()


def counter():
    while True:
        time.sleep(0.2)
        if count_file:
            with open(count_file + ".tmp", "w") as out:
                out.write(str(accepted))
            import os
            os.replace(count_file + ".tmp", count_file)


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(128)
threading.Thread(target=counter, daemon=True).start()
while True:
    c, _ = srv.accept()
    threading.Thread(target=session, args=(c,), daemon=True).start()
