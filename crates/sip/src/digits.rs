//! Numbers written into message text without the formatting machinery, which costs a
//! dynamic call per piece: decimal and lowercase hexadecimal, into a `String` or a byte
//! buffer. Builders on the call path (CSeq, Content-Length, status codes, tags, branches)
//! use these; nothing here allocates beyond the output it appends to.

/// The decimal digits of `n`, written at the end of `buf`.
pub fn decimal(buf: &mut [u8; 20], mut n: u64) -> &[u8] {
    let mut len = 0;
    for slot in buf.iter_mut().rev() {
        // `n % 10` is a digit: the cast keeps it whole.
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
        if n == 0 {
            break;
        }
    }
    buf.get(20 - len..).unwrap_or_default()
}

/// The lowercase hexadecimal digits of `n`, at least `width` of them (zero-padded, at most 16),
/// written at the end of `buf`.
pub fn hex(buf: &mut [u8; 16], mut n: u64, width: usize) -> &[u8] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut len = 0;
    for slot in buf.iter_mut().rev() {
        *slot = DIGITS.get((n & 0xf) as usize).copied().unwrap_or(b'0');
        n >>= 4;
        len += 1;
        if n == 0 && len >= width {
            break;
        }
    }
    buf.get(16 - len..).unwrap_or_default()
}

/// Appends `n` in decimal.
pub fn push_decimal(out: &mut String, n: u64) {
    let mut buf = [0u8; 20];
    push_ascii(out, decimal(&mut buf, n));
}

/// Appends `n` in lowercase hexadecimal, zero-padded to `width` digits (at most 16).
pub fn push_hex(out: &mut String, n: u64, width: usize) {
    let mut buf = [0u8; 16];
    push_ascii(out, hex(&mut buf, n, width));
}

fn push_ascii(out: &mut String, digits: &[u8]) {
    out.extend(digits.iter().map(|&d| char::from(d)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_as_format() {
        for n in [
            0,
            1,
            9,
            10,
            15,
            16,
            99,
            100,
            255,
            4096,
            65_535,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut s = String::new();
            push_decimal(&mut s, n);
            assert_eq!(s, n.to_string());
            let mut s = String::new();
            push_hex(&mut s, n, 0);
            assert_eq!(s, format!("{n:x}"));
            let mut s = String::new();
            push_hex(&mut s, n, 16);
            assert_eq!(s, format!("{n:016x}"));
        }
    }
}
