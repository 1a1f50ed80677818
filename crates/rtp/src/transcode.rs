//! µ-law ⇄ A-law conversion of whole payloads, one table lookup per byte (the tables are built at
//! compile time from `crate::g711`, so they agree with it code word for code word).

use crate::g711::{alaw_decode, alaw_encode, ulaw_decode, ulaw_encode, Law};

const fn table(from: Law) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut code = 0;
    while code < 256 {
        t[code] = match from {
            Law::Ulaw => alaw_encode(ulaw_decode(code as u8)),
            Law::Alaw => ulaw_encode(alaw_decode(code as u8)),
        };
        code += 1;
    }
    t
}

static ULAW_TO_ALAW: [u8; 256] = table(Law::Ulaw);
static ALAW_TO_ULAW: [u8; 256] = table(Law::Alaw);

/// Converts `payload` in place from `from` to `to` (nothing to do when they are equal).
#[inline]
pub fn transcode_in_place(from: Law, to: Law, payload: &mut [u8]) {
    let table = match (from, to) {
        (Law::Ulaw, Law::Alaw) => &ULAW_TO_ALAW,
        (Law::Alaw, Law::Ulaw) => &ALAW_TO_ULAW,
        _ => return,
    };
    for b in payload {
        *b = table[usize::from(*b)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::transcode;

    #[test]
    fn tables_agree_with_g711_for_every_code_word() {
        let mut all: Vec<u8> = (0..=255).collect();
        transcode_in_place(Law::Ulaw, Law::Alaw, &mut all);
        for (code, got) in all.iter().enumerate() {
            assert_eq!(*got, transcode(Law::Ulaw, Law::Alaw, code as u8));
        }
        let mut all: Vec<u8> = (0..=255).collect();
        transcode_in_place(Law::Alaw, Law::Ulaw, &mut all);
        for (code, got) in all.iter().enumerate() {
            assert_eq!(*got, transcode(Law::Alaw, Law::Ulaw, code as u8));
        }
        let mut same = vec![1, 2, 3];
        transcode_in_place(Law::Alaw, Law::Alaw, &mut same);
        assert_eq!(same, [1, 2, 3]);
    }
}
