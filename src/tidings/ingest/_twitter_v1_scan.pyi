# The compiled scanner (_twitter_v1_scan.cpp); its header comment says what it returns.
_Table = tuple[int, dict[str, tuple[object, ...]]]

def scan(
    block: bytes | bytearray | memoryview, first_line: int, /
) -> tuple[_Table, _Table, _Table, list[tuple[int, bytes]]] | None: ...
