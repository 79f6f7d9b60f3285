"""Section tables of executables: ELF, Mach-O and PE/COFF, just enough to find named sections.

Language toolchains embed their dependency lists in executables: Go in `.go.buildinfo`
(`__go_buildinfo` on macOS), cargo-auditable in `.dep-v0`. Finding them needs each format's header
and section table, nothing more; symbols, relocations and debug data are never read.

- ELF (32/64-bit, either byte order): the section headers, named through `.shstrtab`, and the
  `PT_LOAD` program headers. Extended numbering (`e_shnum == 0`, count in section 0) is honoured.
- Mach-O (32/64-bit, either byte order): `LC_SEGMENT`/`LC_SEGMENT_64` load commands and the sections
  inside them. A fat (universal) file yields its first slice that parses; offsets are absolute.
- PE/COFF: the section table after the optional header, with long `/NNN` names read from the COFF
  string table. Virtual addresses include the image base, because that is what pointers stored in
  the image hold.

`read_vaddr` maps a virtual address to file bytes the way the loader would: through the segments
(ELF `PT_LOAD`, Mach-O segments) when there are any, else through the sections (PE, object files).
Pre-1.18 Go build info is a pair of pointers and needs it.

Every file here may be hostile. Counts and sizes are checked against the file size and fixed caps
before anything is read or allocated, so a garbled header costs a few small reads, never a loop over
four billion sections or a gigabyte buffer. A file whose leading bytes are not one of these formats
is `None`; one that has the magic but a broken header raises `BinaryFormatError`, which callers turn
into "not a binary I can read".
"""

from __future__ import annotations

import io
import struct
import threading
from dataclasses import dataclass
from typing import BinaryIO, Literal

ELF_MAGIC = b"\x7fELF"
MACHO_MAGICS = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
FAT_MAGICS = (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf")
PE_MAGIC = b"MZ"
# What a cataloger of executables declares as its `magic`.
EXECUTABLE_MAGIC: tuple[bytes, ...] = (ELF_MAGIC, *MACHO_MAGICS, *FAT_MAGICS, PE_MAGIC)

# Linked executables have a few dozen sections; ELF's own field tops out at 65,535 before extended
# numbering, which only relocatable objects need.
MAX_SECTIONS = 1 << 16
# A section or load-command table larger than this is not a real executable's.
MAX_TABLE_BYTES = 16 << 20
# Mach-O universal files carry one slice per architecture; a Java class file shares the magic and its
# "count" is the class-file version (45 and up), which this rejects.
MAX_FAT_SLICES = 32
_NAME_LIMIT = 256

# Paths that are never binaries, so the runner need not open them: scripts and text with an x bit.
_NOT_BINARY_SUFFIXES = (
    ".sh",
    ".bash",
    ".zsh",
    ".ksh",
    ".csh",
    ".fish",
    ".py",
    ".pyc",
    ".pl",
    ".pm",
    ".rb",
    ".js",
    ".mjs",
    ".php",
    ".lua",
    ".tcl",
    ".awk",
    ".txt",
    ".md",
    ".json",
    ".xml",
    ".html",
    ".conf",
    ".yaml",
    ".yml",
)


class BinaryFormatError(Exception):
    """The file has an executable format's magic but its headers cannot be trusted."""


Format = Literal["elf", "macho", "pe"]


@dataclass(frozen=True, slots=True)
class Section:
    """A named region: `offset`/`size` locate its bytes in the file (`size` 0 for zero-fill such as
    `.bss`), `addr` is its virtual address, `segment` the Mach-O segment it belongs to ("" elsewhere).
    Segments (ELF `PT_LOAD`, Mach-O `LC_SEGMENT*`) use the same shape.
    """

    name: str
    offset: int
    size: int
    addr: int
    writable: bool
    segment: str = ""


def executable_candidate(path: str, mode: int) -> bool:
    """Whether a layer member may be an executable: any execute bit (the runner passes permission
    bits for regular files only), or a Windows `.exe` name, outside `usr/share/` and not a script.
    """
    if path.startswith("usr/share/"):
        return False
    if path[-4:].lower() == ".exe":
        return True
    return bool(mode & 0o111) and not path.endswith(_NOT_BINARY_SUFFIXES)


class Binary:
    """A parsed section table over a seekable stream; reads go to the stream on demand."""

    __slots__ = ("file_size", "format", "sections", "segments", "stream")

    def __init__(
        self,
        stream: BinaryIO,
        file_size: int,
        fmt: Format,
        sections: tuple[Section, ...],
        segments: tuple[Section, ...],
    ) -> None:
        self.stream = stream
        self.file_size = file_size
        self.format: Format = fmt
        self.sections = sections
        self.segments = segments

    def section(self, name: str, segment: str | None = None) -> Section | None:
        """The first section called `name` (in Mach-O segment `segment`, when given)."""
        for sec in self.sections:
            if sec.name == name and (segment is None or sec.segment == segment):
                return sec
        return None

    def read_at(self, offset: int, n: int) -> bytes:
        """Exactly `n` bytes at file offset `offset`, or BinaryFormatError when the file is shorter."""
        if offset < 0 or n < 0 or offset + n > self.file_size:
            raise BinaryFormatError(
                f"{n} bytes at offset {offset} lie outside the {self.file_size}-byte file"
            )
        return _read_exact(self.stream, offset, n)

    def read_section(self, sec: Section, limit: int) -> bytes:
        """A section's file bytes; BinaryFormatError if they pass the end of file or `limit`."""
        if sec.size > limit:
            raise BinaryFormatError(f"section {sec.name} is {sec.size} bytes, over the {limit}-byte limit")
        return self.read_at(sec.offset, sec.size)

    def read_vaddr(self, addr: int, n: int) -> bytes:
        """`n` bytes at virtual address `addr`, through the segments when there are any, else the
        sections. BinaryFormatError when no region holds the whole range in file bytes.
        """
        for region in self.segments or self.sections:
            if region.size and region.addr <= addr and addr + n <= region.addr + region.size:
                return self.read_at(region.offset + (addr - region.addr), n)
        raise BinaryFormatError(f"address {addr:#x} (+{n}) is not backed by file data")


_last_parse = threading.local()


def parse_binary(stream: BinaryIO) -> Binary | None:
    """The section table of the ELF, Mach-O or PE file in `stream` (seekable), or None when the file
    does not start like one. Raises BinaryFormatError for a file with the magic but a broken header.

    The Go and Rust catalogers both read every executable, one after the other, on the same stream
    object; the last result per thread is kept (with the stream itself, so its identity cannot be
    reused) and the second cataloger gets it without parsing the headers again.
    """
    last = getattr(_last_parse, "entry", None)
    if last is not None and last[0] is stream:
        return last[1]  # type: ignore[no-any-return]
    binary = _parse_binary(stream)
    _last_parse.entry = (stream, binary)
    return binary


def _parse_binary(stream: BinaryIO) -> Binary | None:
    stream.seek(0, io.SEEK_END)
    file_size = stream.tell()
    head = _read_upto(stream, 0, 8)
    try:
        if head.startswith(ELF_MAGIC):
            return _parse_elf(stream, file_size)
        if head.startswith(MACHO_MAGICS):
            return _parse_macho(stream, file_size, 0, file_size)
        if head.startswith(FAT_MAGICS):
            return _parse_fat(stream, file_size)
        if head.startswith(PE_MAGIC):
            return _parse_pe(stream, file_size)
    except struct.error as exc:  # a slice shorter than its declared structure
        raise BinaryFormatError(f"truncated header: {exc}") from None
    return None


def _read_upto(stream: BinaryIO, offset: int, n: int) -> bytes:
    stream.seek(offset)
    return stream.read(n)


def _read_exact(stream: BinaryIO, offset: int, n: int) -> bytes:
    data = _read_upto(stream, offset, n)
    if len(data) != n:
        raise BinaryFormatError(f"file ends inside {n} bytes at offset {offset}")
    return data


def _table(stream: BinaryIO, file_size: int, offset: int, count: int, entsize: int, what: str) -> bytes:
    """`count` entries of `entsize` bytes at `offset`, after checking they fit the caps and the file."""
    if count > MAX_SECTIONS:
        raise BinaryFormatError(f"{count} {what} entries is more than any executable has")
    total = count * entsize
    if total > MAX_TABLE_BYTES or offset < 0 or offset + total > file_size:
        raise BinaryFormatError(f"{what} table ({total} bytes at {offset}) lies outside the file")
    return _read_exact(stream, offset, total)


def _cstr(blob: bytes, start: int) -> str:
    if start < 0 or start >= len(blob):
        return ""
    end = blob.find(b"\0", start, start + _NAME_LIMIT)
    return blob[start : end if end >= 0 else min(len(blob), start + _NAME_LIMIT)].decode("latin-1")


# ---------------------------------------------------------------------------------------------- ELF

_SHT_NOBITS = 8
_SHF_WRITE = 0x1
_SHF_ALLOC = 0x2
_SHF_EXECINSTR = 0x4
_PT_LOAD = 1
_PF_X = 0x1
_PF_W = 0x2
_SHN_XINDEX = 0xFFFF


def _parse_elf(stream: BinaryIO, file_size: int) -> Binary:
    ident = _read_exact(stream, 0, 16)
    elf_class, data = ident[4], ident[5]
    if elf_class not in (1, 2) or data not in (1, 2):
        raise BinaryFormatError(f"unknown ELF class {elf_class} / data encoding {data}")
    end = "<" if data == 1 else ">"
    is64 = elf_class == 2
    if is64:
        hdr = _read_exact(stream, 0, 64)
        phoff, shoff = struct.unpack_from(end + "QQ", hdr, 32)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(end + "5H", hdr, 54)
        sh_fmt, sh_size, ph_fmt, ph_size = end + "IIQQQQIIQQ", 64, end + "IIQQQQQQ", 56
    else:
        hdr = _read_exact(stream, 0, 52)
        phoff, shoff = struct.unpack_from(end + "II", hdr, 28)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(end + "5H", hdr, 42)
        sh_fmt, sh_size, ph_fmt, ph_size = end + "10I", 40, end + "8I", 32

    raw_sections: list[tuple[int, ...]] = []
    if shoff:
        if shentsize < sh_size:
            raise BinaryFormatError(f"ELF section header size {shentsize} is below {sh_size}")
        if shnum == 0 or shstrndx == _SHN_XINDEX:
            # Extended numbering: the real count and string-table index live in section 0.
            if shoff + sh_size > file_size:
                raise BinaryFormatError(f"ELF section table at {shoff} lies outside the file")
            first = struct.unpack(sh_fmt, _read_exact(stream, shoff, sh_size))
            shnum = shnum or first[5]
            if shstrndx == _SHN_XINDEX:
                shstrndx = first[6]
        table = _table(stream, file_size, shoff, shnum, shentsize, "ELF section")
        raw_sections = [struct.unpack_from(sh_fmt, table, i * shentsize) for i in range(shnum)]

    names = b""
    if 0 < shstrndx < len(raw_sections):
        str_sec = raw_sections[shstrndx]
        str_off, str_size = (str_sec[4], str_sec[5])
        if str_size > MAX_TABLE_BYTES or str_off + str_size > file_size:
            raise BinaryFormatError("ELF section-name table lies outside the file")
        names = _read_exact(stream, str_off, str_size)

    sections = []
    for name_off, sh_type, flags, addr, offset, size, *_ in raw_sections:
        in_file = 0 if sh_type == _SHT_NOBITS else size
        writable = flags & (_SHF_WRITE | _SHF_ALLOC | _SHF_EXECINSTR) == _SHF_WRITE | _SHF_ALLOC
        sections.append(Section(_cstr(names, name_off), offset, in_file, addr, bool(writable)))

    segments = []
    if phoff and phnum:
        if phentsize < ph_size:
            raise BinaryFormatError(f"ELF program header size {phentsize} is below {ph_size}")
        table = _table(stream, file_size, phoff, phnum, phentsize, "ELF program header")
        for i in range(phnum):
            fields = struct.unpack_from(ph_fmt, table, i * phentsize)
            if is64:
                p_type, p_flags, p_offset, p_vaddr, _, p_filesz = fields[:6]
            else:
                p_type, p_offset, p_vaddr, _, p_filesz, _, p_flags = fields[:7]
            if p_type == _PT_LOAD:
                writable = p_flags & (_PF_W | _PF_X) == _PF_W
                segments.append(Section("PT_LOAD", p_offset, p_filesz, p_vaddr, writable))
    return Binary(stream, file_size, "elf", tuple(sections), tuple(segments))


# ------------------------------------------------------------------------------------------ Mach-O

_LC_SEGMENT = 0x1
_LC_SEGMENT_64 = 0x19
_VM_PROT_WRITE = 0x2
# (segment command after cmd/cmdsize, section entry) layouts of the 32- and 64-bit load commands.
_SEGMENT_FORMATS = {
    _LC_SEGMENT: ("16sIIIIiiII", "16s16sIIIIIIIII"),
    _LC_SEGMENT_64: ("16sQQQQiiII", "16s16sQQIIIIIIII"),
}
# Section types whose bytes are zero-filled at load time and absent from the file.
_ZEROFILL_TYPES = frozenset({0x1, 0xC, 0x12})


def _name16(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("latin-1")


def _parse_macho(stream: BinaryIO, file_size: int, base: int, length: int) -> Binary:
    """The thin Mach-O image occupying `length` bytes at `base`; section offsets become absolute."""
    magic = _read_exact(stream, base, 4)
    end = ">" if magic[0] == 0xFE else "<"
    is64 = magic in (b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe")
    header_size = 32 if is64 else 28
    ncmds, sizeofcmds = struct.unpack_from(end + "II", _read_exact(stream, base, header_size), 16)
    if sizeofcmds > MAX_TABLE_BYTES or header_size + sizeofcmds > length or ncmds > sizeofcmds // 8:
        raise BinaryFormatError(f"Mach-O load commands ({ncmds}, {sizeofcmds} bytes) do not fit the file")
    cmds = _read_exact(stream, base + header_size, sizeofcmds)

    sections: list[Section] = []
    segments: list[Section] = []
    pos = 0
    for _ in range(ncmds):
        if pos + 8 > len(cmds):
            raise BinaryFormatError("Mach-O load commands run past their declared size")
        cmd, cmdsize = struct.unpack_from(end + "II", cmds, pos)
        if cmdsize < 8 or pos + cmdsize > len(cmds):
            raise BinaryFormatError(f"Mach-O load command of size {cmdsize} at {pos}")
        if cmd in _SEGMENT_FORMATS:
            seg_fmt, sect_fmt = (end + fmt for fmt in _SEGMENT_FORMATS[cmd])
            seg_size, sect_size = struct.calcsize(seg_fmt), struct.calcsize(sect_fmt)
            if cmdsize < 8 + seg_size:
                raise BinaryFormatError(f"Mach-O segment command of size {cmdsize} is too short")
            segname, vmaddr, _, fileoff, filesize, _, initprot, nsects, _ = struct.unpack_from(
                seg_fmt, cmds, pos + 8
            )
            if nsects > (cmdsize - 8 - seg_size) // sect_size or len(sections) + nsects > MAX_SECTIONS:
                raise BinaryFormatError(f"Mach-O segment claims {nsects} sections it has no room for")
            seg_name = _name16(segname)
            writable = bool(initprot & _VM_PROT_WRITE)
            segments.append(Section(seg_name, base + fileoff, filesize, vmaddr, writable, seg_name))
            for i in range(nsects):
                sectname, sect_segname, addr, size, offset, _, _, _, flags, *_ = struct.unpack_from(
                    sect_fmt, cmds, pos + 8 + seg_size + i * sect_size
                )
                in_file = 0 if (flags & 0xFF) in _ZEROFILL_TYPES or offset == 0 else size
                sections.append(
                    Section(_name16(sectname), base + offset, in_file, addr, writable, _name16(sect_segname))
                )
        pos += cmdsize
    return Binary(stream, file_size, "macho", tuple(sections), tuple(segments))


def _parse_fat(stream: BinaryIO, file_size: int) -> Binary | None:
    head = _read_exact(stream, 0, 8)
    is64 = head[3] == 0xBF
    (nfat,) = struct.unpack_from(">I", head, 4)
    if not 0 < nfat <= MAX_FAT_SLICES:
        return None  # most likely a Java class file, which shares the magic
    entsize = 32 if is64 else 20
    table = _table(stream, file_size, 8, nfat, entsize, "Mach-O fat arch")
    for i in range(nfat):
        if is64:
            offset, size = struct.unpack_from(">QQ", table, i * entsize + 8)
        else:
            offset, size = struct.unpack_from(">II", table, i * entsize + 8)
        if offset + size > file_size or offset < 8 + len(table):
            continue
        if not _read_upto(stream, offset, 4).startswith(MACHO_MAGICS):
            continue
        try:
            return _parse_macho(stream, file_size, offset, size)
        except (BinaryFormatError, struct.error):
            continue
    raise BinaryFormatError("no slice of the universal file parses as Mach-O")


# ------------------------------------------------------------------------------------------- PE/COFF

_IMAGE_SCN_CNT_INITIALIZED_DATA = 0x40
_IMAGE_SCN_MEM_WRITE = 0x80000000
_IMAGE_SCN_MEM_EXECUTE = 0x20000000
_COFF_SYMBOL_SIZE = 18


def _parse_pe(stream: BinaryIO, file_size: int) -> Binary | None:
    dos = _read_upto(stream, 0, 64)
    if len(dos) < 64:
        return None  # a two-letter text file starting "MZ", not a DOS header
    (lfanew,) = struct.unpack_from("<I", dos, 0x3C)
    if lfanew + 24 > file_size:
        return None  # a DOS stub without a PE header (or text that starts "MZ")
    coff = _read_exact(stream, lfanew, 24)
    if coff[:4] != b"PE\0\0":
        return None
    _, nsections, _, symtab_off, nsymbols, opt_size, _ = struct.unpack_from("<HHIIIHH", coff, 4)
    opt = _read_exact(stream, lfanew + 24, opt_size) if opt_size else b""
    image_base = 0
    if len(opt) >= 32:
        (opt_magic,) = struct.unpack_from("<H", opt, 0)
        if opt_magic == 0x20B:
            (image_base,) = struct.unpack_from("<Q", opt, 24)
        elif opt_magic == 0x10B:
            (image_base,) = struct.unpack_from("<I", opt, 28)
    table = _table(stream, file_size, lfanew + 24 + opt_size, nsections, 40, "PE section")
    strtab_off = symtab_off + nsymbols * _COFF_SYMBOL_SIZE if symtab_off else 0
    sections = []
    for i in range(nsections):
        raw_name, vsize, vaddr, raw_size, raw_off, *_, characteristics = struct.unpack_from(
            "<8sIIIIIIHHI", table, i * 40
        )
        name = _name16(raw_name)
        if name.startswith("/") and name[1:].isascii() and name[1:].isdigit() and strtab_off:
            name = _pe_long_name(stream, file_size, strtab_off + int(name[1:])) or name
        in_file = min(vsize, raw_size) if vsize else raw_size
        if raw_off == 0:
            in_file = 0
        writable = characteristics & (
            _IMAGE_SCN_CNT_INITIALIZED_DATA | _IMAGE_SCN_MEM_WRITE | _IMAGE_SCN_MEM_EXECUTE
        ) == (_IMAGE_SCN_CNT_INITIALIZED_DATA | _IMAGE_SCN_MEM_WRITE)
        sections.append(Section(name, raw_off, in_file, image_base + vaddr, writable))
    return Binary(stream, file_size, "pe", tuple(sections), ())


def _pe_long_name(stream: BinaryIO, file_size: int, offset: int) -> str:
    if offset >= file_size:
        return ""
    return _cstr(_read_upto(stream, offset, _NAME_LIMIT), 0)
