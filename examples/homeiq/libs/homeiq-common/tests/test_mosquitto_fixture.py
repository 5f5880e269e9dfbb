import socket


def test_broker_accepts_connections(mosquitto):
    host, port = mosquitto
    assert host == "127.0.0.1"
    with socket.create_connection((host, port), timeout=2) as sock:
        # MQTT 3.1.1 CONNECT, clean session, keepalive 5 s, client id "t"
        sock.sendall(bytes([0x10, 13, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 5, 0, 1]) + b"t")
        assert sock.recv(4) == bytes([0x20, 2, 0, 0])  # CONNACK, accepted
