// The glibc symbol versions an ELF binary needs (what `objdump -T` lists as GLIBC_x.y), read from its
// .gnu.version_r section: a Node runtime built on a newer system than the target base fails to start there
// ("version `GLIBC_2.38' not found"). ELF64 little-endian only (amd64, arm64). Pure: parses a buffer.

const SHT_GNU_VERNEED = 0x6ffffffe;

export function glibcVersionsNeeded(elf: Buffer): string[] {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  if (elf[4] !== 2 || elf[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  if (shoff + shnum * shentsize > elf.length) throw new Error('ELF section headers past the end of the file');
  const section = (i: number) => {
    const o = shoff + i * shentsize;
    return {
      type: elf.readUInt32LE(o + 4),
      offset: Number(elf.readBigUInt64LE(o + 0x18)),
      size: Number(elf.readBigUInt64LE(o + 0x20)),
      link: elf.readUInt32LE(o + 0x28),
      info: elf.readUInt32LE(o + 0x2c),
    };
  };
  const out = new Set<string>();
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (s.type !== SHT_GNU_VERNEED) continue;
    const strtab = section(s.link);
    const str = (off: number) => {
      const start = strtab.offset + off;
      const end = elf.indexOf(0, start);
      return elf.toString('latin1', start, end < 0 ? start : end);
    };
    // sh_info = number of Verneed entries; each lists its Vernaux (one per needed version of that library).
    let vn = s.offset;
    for (let n = 0; n < s.info && vn + 16 <= elf.length; n++) {
      const cnt = elf.readUInt16LE(vn + 2);
      let aux = vn + elf.readUInt32LE(vn + 8);
      for (let k = 0; k < cnt && aux + 16 <= elf.length; k++) {
        const name = str(elf.readUInt32LE(aux + 8));
        if (/^GLIBC_\d+(\.\d+)*$/.test(name)) out.add(name.slice(6));
        const next = elf.readUInt32LE(aux + 12);
        if (!next) break;
        aux += next;
      }
      const next = elf.readUInt32LE(vn + 12);
      if (!next) break;
      vn += next;
    }
  }
  return [...out].sort(compareVersions);
}

export function compareVersions(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** glibc of the Ubuntu bases the charm targets (charmcraft.yaml platforms). */
export const baseGlibc: Record<string, string> = { '20.04': '2.31', '22.04': '2.35', '24.04': '2.39' };

/** null when `needed` runs on glibc `have`, else the newest version it lacks. */
export function missingGlibc(needed: string[], have: string): string | null {
  const newest = needed.at(-1);
  return newest && compareVersions(newest, have) > 0 ? newest : null;
}
