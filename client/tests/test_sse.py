"""The Server-Sent Events parser, against the format's rules (WHATWG HTML, "event stream")."""

from __future__ import annotations

from notes_client.sse import ServerSentEvent, SSEDecoder


def parse(*chunks: bytes) -> tuple[list[ServerSentEvent], SSEDecoder]:
    decoder = SSEDecoder()
    return [event for chunk in chunks for event in decoder.feed(chunk)], decoder


def test_events_ids_and_types() -> None:
    events, decoder = parse(
        b'id: c1\nevent: note\ndata: {"id": 1}\n\nid: c2\nevent: deleted\ndata: {"id": 2}\n\n'
    )
    assert events == [
        ServerSentEvent("note", '{"id": 1}', "c1"),
        ServerSentEvent("deleted", '{"id": 2}', "c2"),
    ]
    assert decoder.last_event_id == "c2"


def test_every_line_ending_and_chunks_cut_anywhere() -> None:
    stream = b"id: a\r\ndata: one\r\n\r\nid: b\rdata: two\r\rid: c\ndata: three\n\n"
    whole, _ = parse(stream)
    assert [(event.id, event.data) for event in whole] == [("a", "one"), ("b", "two"), ("c", "three")]
    for size in (1, 2, 3, 5, 7):
        pieces = [stream[at : at + size] for at in range(0, len(stream), size)]
        assert parse(*pieces)[0] == whole, size


def test_comments_retry_and_multi_line_data() -> None:
    events, decoder = parse(b": heartbeat\n\nretry: 2500\n\ndata: first\ndata:second\ndata\n\n")
    assert [event.data for event in events] == ["first\nsecond\n"]
    assert events[0].event == "message" and decoder.retry == 2500
    _, decoder = parse(b"retry: soon\n\n")
    assert decoder.retry is None  # not digits: ignored


def test_an_id_without_data_still_counts_and_ids_persist() -> None:
    events, decoder = parse(b"id: c9\n\ndata: x\n\n")
    assert decoder.last_event_id == "c9" and events == [ServerSentEvent("message", "x", "c9")]
    _, decoder = parse(b"id: c1\n\nid: bad\x00id\n\n")
    assert decoder.last_event_id == "c1"  # an id holding NUL is ignored


def test_unicode_line_separators_are_data_and_a_bom_is_dropped() -> None:
    text = '{"content": "a\u2028b\u0085c\x1cd"}'
    events, _ = parse(b"\xef\xbb\xbf" + f"data: {text}\n\n".encode())
    assert [event.data for event in events] == [text]


def test_utf8_cut_between_chunks() -> None:
    data = "data: café ☕\n\n".encode()
    events, _ = parse(data[:9], data[9:10], data[10:])
    assert events[0].data == "café ☕"


def test_an_unfinished_event_is_not_dispatched() -> None:
    events, _ = parse(b"id: c1\nevent: note\ndata: {}\n")
    assert events == []
