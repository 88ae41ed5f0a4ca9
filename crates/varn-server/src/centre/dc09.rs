//! SIA DC-09 framing, as alarm centres (receivers certified to SS-EN 50518) take it over IP:
//! `\n` CRC (4 hex) length (4 hex) `"SIA-DCS"` or `"NULL"` (`"*…"` when encrypted) sequence
//! (4 digits) `R`receiver `L`line `#`account `[`data`]` extended data `_`HH:MM:SS,MM-DD-YYYY
//! `\r`. The CRC is CRC-16/ARC over everything between the length and the `\r`; the length
//! counts the same characters in hex. The event block holds only the zone and the SIA code
//! (`#acct|Nri1/PA]`); the words go as extended data, `[I…]` (alarm text: the person's id and
//! what happened) and `[L…]` (location), never after the code, where a receiver that splits
//! events on `/` could read a second event. Encrypted data is AES-CBC with a zero IV over the
//! data, the extended data and the timestamp, padded at the front with random characters to
//! whole blocks, in upper-case hex; the key is used as its characters are (32 recommended;
//! 16 or 24 taken with a warning), as the receivers in use (and `pysiaalarm`) do. A clear-text
//! message carries no place.
//!
//! The receiver answers `"ACK"` (`"*ACK"` for an encrypted account, its timestamp encrypted),
//! `"NAK"` (timestamp or format refused: retry), `"DUH"` (not understood: do not repeat) or
//! `"RSP"`. An answer is taken only when it is a whole frame whose CRC and length hold and
//! that names the sequence, receiver, line and account of the message sent; for an encrypted
//! account only an encrypted ACK whose timestamp lies within DC-09's window (−20 s … +40 s)
//! of the message's counts ([`judge`]). Anything else is refused with what did not match.

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use chrono::{DateTime, NaiveDateTime, Utc};

/// CRC-16/ARC (polynomial 0x8005 reflected, initial 0), as DC-09 uses.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        let mut b = byte;
        for _ in 0..8 {
            let mix = (crc ^ u16::from(b)) & 1;
            crc >>= 1;
            if mix != 0 {
                crc ^= 0xA001;
            }
            b >>= 1;
        }
    }
    crc
}

/// The AES key of an account: 16, 24 or 32 characters, used as they are. The cipher is made
/// once, when the key is read, not again for every block.
#[derive(Clone)]
pub struct Key(Cipher);

/// One AES block.
type Block = GenericArray<u8, aes::cipher::consts::U16>;

/// AES of the key's size.
#[derive(Clone)]
enum Cipher {
    Aes128(aes::Aes128),
    Aes192(aes::Aes192),
    Aes256(aes::Aes256),
}

impl Cipher {
    fn encrypt(&self, b: &mut Block) {
        match self {
            Cipher::Aes128(c) => c.encrypt_block(b),
            Cipher::Aes192(c) => c.encrypt_block(b),
            Cipher::Aes256(c) => c.encrypt_block(b),
        }
    }

    fn decrypt(&self, b: &mut Block) {
        match self {
            Cipher::Aes128(c) => c.decrypt_block(b),
            Cipher::Aes192(c) => c.decrypt_block(b),
            Cipher::Aes256(c) => c.decrypt_block(b),
        }
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key(AES-{})", self.bits())
    }
}

impl Key {
    /// A key of 16, 24 or 32 hexadecimal characters (what receivers are configured with).
    pub fn parse(s: &str) -> Result<Key, String> {
        let s = s.trim();
        let wrong = || {
            format!(
                "an alarm-centre key is 16, 24 or 32 hexadecimal characters (got {})",
                s.len()
            )
        };
        if !s.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(wrong());
        }
        let k = s.as_bytes();
        let cipher = match k.len() {
            16 => aes::Aes128::new_from_slice(k).map(Cipher::Aes128),
            24 => aes::Aes192::new_from_slice(k).map(Cipher::Aes192),
            32 => aes::Aes256::new_from_slice(k).map(Cipher::Aes256),
            _ => return Err(wrong()),
        };
        cipher.map(Key).map_err(|_| wrong())
    }

    /// The AES key size in bits (128, 192 or 256: 8 for each character).
    pub fn bits(&self) -> usize {
        match self.0 {
            Cipher::Aes128(_) => 128,
            Cipher::Aes192(_) => 192,
            Cipher::Aes256(_) => 256,
        }
    }

    fn decrypt(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.is_empty() || !sealed.len().is_multiple_of(16) {
            return None;
        }
        let mut prev = [0u8; 16];
        let mut out = Vec::with_capacity(sealed.len());
        for chunk in sealed.chunks(16) {
            let mut block = Block::clone_from_slice(chunk);
            self.0.decrypt(&mut block);
            out.extend(block.iter().zip(prev).map(|(b, p)| b ^ p));
            prev.copy_from_slice(chunk);
        }
        Some(out)
    }

    fn encrypt(&self, plain: &[u8]) -> Vec<u8> {
        // CBC with a zero IV, block by block (the data is already whole blocks).
        let mut prev = [0u8; 16];
        let mut out = Vec::with_capacity(plain.len());
        for chunk in plain.chunks(16) {
            let mut block = Block::default();
            for (i, b) in chunk.iter().enumerate() {
                block[i] = b ^ prev[i];
            }
            self.0.encrypt(&mut block);
            prev.copy_from_slice(&block);
            out.extend_from_slice(&block);
        }
        out
    }
}

/// What a message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// An event: a SIA code (two letters), a zone, the alarm text and the place.
    Event {
        /// The SIA event code, e.g. `PA`.
        code: &'static str,
        /// The zone (here: which event of the alarm).
        zone: u32,
        /// What the operator reads: the person's id and what happened (extended data `I`).
        text: String,
        /// Where the person is (extended data `L`); empty for none. Never sent in clear text.
        place: String,
    },
    /// A supervision message (link test).
    Null,
}

/// Where a message comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Receiver number (hex, may be empty).
    pub receiver: String,
    /// Line number (hex).
    pub line: String,
    /// Account (3–16 hex digits).
    pub account: String,
}

impl Route {
    /// The route as a frame names it, in messages and in answers: `R`receiver (left out
    /// when there is none), `L`line, `#`account.
    fn fields(&self) -> String {
        let receiver = if self.receiver.is_empty() {
            String::new()
        } else {
            format!("R{}", self.receiver)
        };
        format!("{receiver}L{}#{}", self.line, self.account)
    }
}

/// The longest text in one extended-data block.
pub const MAX_TEXT: usize = 64;

/// Text as receivers take it: letters without their marks, digits, space, `,`, `.` and `-`;
/// anything else becomes a space (runs of spaces one), at most [`MAX_TEXT`] characters.
pub fn sia_text(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| match c {
            'å' | 'ä' | 'á' | 'à' | 'â' => 'a',
            'Å' | 'Ä' | 'Á' | 'À' => 'A',
            'ö' | 'ó' | 'ø' | 'ò' | 'ô' => 'o',
            'Ö' | 'Ø' | 'Ó' => 'O',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'É' | 'È' => 'E',
            'ü' | 'ú' => 'u',
            'Ü' => 'U',
            'í' | 'ï' => 'i',
            c if c.is_ascii_alphanumeric() || matches!(c, ',' | '.' | '-') => c,
            _ => ' ',
        })
        .collect();
    mapped
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_TEXT)
        .collect()
}

/// The timestamp as DC-09 writes it (UTC).
fn timestamp(at: DateTime<Utc>) -> String {
    at.format("_%H:%M:%S,%m-%d-%Y").to_string()
}

/// Characters that pad an encrypted message at the front: random, and none the receiver
/// reads as a separator (`|`, `[`, `]`, `#`).
const PAD: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// One message, framed and ready to write. Without a key the place is left out.
pub fn encode(
    route: &Route,
    seq: u16,
    content: &Content,
    at: DateTime<Utc>,
    key: Option<&Key>,
) -> Vec<u8> {
    let id = match content {
        Content::Event { .. } => "SIA-DCS",
        Content::Null => "NULL",
    };
    let data = match content {
        Content::Event {
            code,
            zone,
            text,
            place,
        } => {
            let mut data = format!("#{}|Nri{zone}/{code}]", route.account);
            let text = sia_text(text);
            if !text.is_empty() {
                data.push_str(&format!("[I{text}]"));
            }
            let place = if key.is_some() {
                sia_text(place)
            } else {
                String::new()
            };
            if !place.is_empty() {
                data.push_str(&format!("[L{place}]"));
            }
            data
        }
        Content::Null => "]".to_string(),
    };
    let plain = format!("{data}{}", timestamp(at));
    let head = format!("{seq:04}{}[", route.fields());
    let body = match key {
        None => format!("\"{id}\"{head}{plain}"),
        Some(k) => {
            let fill = (16 - plain.len() % 16) % 16;
            let mut padded: Vec<u8> = (0..fill)
                .map(|_| PAD[usize::from(rand::random::<u8>()) % PAD.len()])
                .collect();
            padded.extend_from_slice(plain.as_bytes());
            let sealed = hex::encode_upper(k.encrypt(&padded));
            format!("\"*{id}\"{head}{sealed}")
        }
    };
    format!("\n{:04X}{:04X}{body}\r", crc16(body.as_bytes()), body.len()).into_bytes()
}

/// The receiver's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Taken.
    Ack,
    /// Refused (timestamp, format, account): retry.
    Nak,
    /// Not understood: retrying the same will not help.
    Duh,
    /// Taken, with a response.
    Rsp,
}

impl Answer {
    /// Its name, as in the timeline and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Ack => "ACK",
            Answer::Nak => "NAK",
            Answer::Duh => "DUH",
            Answer::Rsp => "RSP",
        }
    }
}

/// DC-09's window for a timestamp: at most this far behind the other side's clock …
pub const WINDOW_BEHIND: chrono::Duration = chrono::Duration::seconds(20);
/// … and at most this far ahead of it.
pub const WINDOW_AHEAD: chrono::Duration = chrono::Duration::seconds(40);

/// What an answer is judged against: the message it answers.
#[derive(Debug, Clone, Copy)]
pub struct Sent<'a> {
    /// Its route (receiver, line, account).
    pub route: &'a Route,
    /// Its sequence number.
    pub seq: u16,
    /// Its timestamp.
    pub at: DateTime<Utc>,
    /// The account's key, when it encrypts.
    pub key: Option<&'a Key>,
}

/// The end of a frame: an answer is read up to here.
pub const FRAME_END: u8 = b'\r';

/// Judges the receiver's bytes as the answer to `sent`: the answer, or what did not match.
/// A NAK is taken as it comes (a receiver sends it without the message's fields); an ACK,
/// RSP or DUH must name the message sent, and for an encrypted account an ACK or RSP must be
/// encrypted, with its timestamp in the window.
pub fn judge(bytes: &[u8], sent: &Sent<'_>) -> Result<Answer, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not text".to_string())?;
    let text = text.strip_prefix('\n').unwrap_or(text);
    let text = text
        .strip_suffix('\r')
        .ok_or("no end of frame (CR)".to_string())?;
    if text.len() < 8 || !text.is_char_boundary(8) || !text[..8].is_ascii() {
        return Err("no CRC and length".into());
    }
    let (head, body) = text.split_at(8);
    let crc = u16::from_str_radix(&head[..4], 16).map_err(|_| "a CRC that is not hex")?;
    let len = usize::from_str_radix(&head[4..], 16).map_err(|_| "a length that is not hex")?;
    if crc16(body.as_bytes()) != crc {
        return Err("a wrong CRC".into());
    }
    if len != body.len() {
        return Err(format!("length {len}, but {} characters", body.len()));
    }
    let rest = body.strip_prefix('"').ok_or("no message type")?;
    let (token, rest) = rest.split_once('"').ok_or("no message type")?;
    let (encrypted, kind) = match token.strip_prefix('*') {
        Some(k) => (true, k),
        None => (false, token),
    };
    let answer = match kind {
        "ACK" => Answer::Ack,
        "NAK" => return Ok(Answer::Nak),
        "DUH" => Answer::Duh,
        "RSP" => Answer::Rsp,
        other => return Err(format!("an unknown answer \"{other}\"")),
    };
    // Sequence, receiver, line and account, as sent.
    let (seq, rest) = rest.split_at_checked(4).ok_or("no sequence")?;
    if seq != format!("{:04}", sent.seq) {
        return Err(format!("sequence {seq}, sent {:04}", sent.seq));
    }
    let (fields, data) = rest.split_once('[').ok_or("no data block")?;
    let expected = sent.route.fields();
    if !fields.eq_ignore_ascii_case(&expected) {
        return Err(format!(
            "receiver, line and account {fields}, sent {expected}"
        ));
    }
    if answer == Answer::Duh {
        return Ok(answer);
    }
    match (sent.key, encrypted) {
        (None, false) => {
            if data.starts_with(']') {
                Ok(answer)
            } else {
                Err("a data block that is not empty".into())
            }
        }
        (None, true) => Err("an encrypted answer for a clear-text account".into()),
        (Some(_), false) => Err("a clear-text answer for an encrypted account".into()),
        (Some(key), true) => {
            let sealed = hex::decode(data).map_err(|_| "encrypted data that is not hex")?;
            let plain = key
                .decrypt(&sealed)
                .ok_or("encrypted data that is not whole blocks")?;
            let plain = String::from_utf8_lossy(&plain);
            let at = answer_time(&plain).ok_or("no timestamp in the encrypted answer")?;
            let gap = at - sent.at;
            if gap < -WINDOW_BEHIND || gap > WINDOW_AHEAD {
                return Err(format!(
                    "a timestamp {}s from the message's (the key is wrong, or a replay)",
                    gap.num_seconds()
                ));
            }
            Ok(answer)
        }
    }
}

/// The timestamp of a decrypted answer: after its data block's `]` and any extended data.
fn answer_time(plain: &str) -> Option<DateTime<Utc>> {
    let (_, mut rest) = plain.split_once(']')?;
    while let Some(after) = rest.strip_prefix('[') {
        rest = after.split_once(']')?.1;
    }
    let stamp = rest.strip_prefix('_')?;
    NaiveDateTime::parse_from_str(stamp, "%H:%M:%S,%m-%d-%Y")
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route() -> Route {
        Route {
            receiver: "1".into(),
            line: "1".into(),
            account: "AAA".into(),
        }
    }

    fn frame(body: &str) -> Vec<u8> {
        format!("\n{:04X}{:04X}{body}\r", crc16(body.as_bytes()), body.len()).into_bytes()
    }

    #[test]
    fn the_crc_is_crc16_arc() {
        // The standard check value of CRC-16/ARC.
        assert_eq!(crc16(b"123456789"), 0xBB3D);
        assert_eq!(crc16(b""), 0);
    }

    #[test]
    fn the_words_go_as_extended_data_never_after_the_code() {
        let at = "2026-11-30T10:11:12Z".parse().unwrap();
        let key = Key::parse("0123456789abcdef0123456789abcdef").unwrap();
        let content = Content::Event {
            code: "PA",
            zone: 1,
            text: "id 00ff larm".into(),
            place: "Torget/PR, \"Nyköping\" [1] |#".into(),
        };
        // In clear text: the place is left out.
        let text = String::from_utf8(encode(&route(), 7, &content, at, None)).unwrap();
        let body = "\"SIA-DCS\"0007R1L1#AAA[#AAA|Nri1/PA][Iid 00ff larm]_10:11:12,11-30-2026";
        assert_eq!(text.as_bytes(), frame(body));
        // Encrypted: the place, in the characters receivers take.
        let sealed = encode(&route(), 7, &content, at, Some(&key));
        let sealed = String::from_utf8(sealed).unwrap();
        let hexed = sealed.trim_end_matches('\r').rsplit('[').next().unwrap();
        let plain = key.decrypt(&hex::decode(hexed).unwrap()).unwrap();
        let plain = String::from_utf8(plain).unwrap();
        assert!(
            plain.ends_with(
                "#AAA|Nri1/PA][Iid 00ff larm][LTorget PR, Nykoping 1]_10:11:12,11-30-2026"
            ),
            "{plain}"
        );
        assert_eq!(sia_text("Åsa-Märta, Öj. ]|[/^_#\"'"), "Asa-Marta, Oj.");
        assert_eq!(sia_text(&"x".repeat(100)).len(), MAX_TEXT);
    }

    #[test]
    fn an_encrypted_message_is_padded_at_random_and_carries_no_clear_text() {
        let key = Key::parse("0123456789abcdef0123456789abcdef").unwrap();
        let at = "2026-11-30T10:11:12Z".parse().unwrap();
        let content = Content::Event {
            code: "HA",
            zone: 1,
            text: "id 1 avbrutet".into(),
            place: "Stadshuset".into(),
        };
        let one = String::from_utf8(encode(&route(), 1, &content, at, Some(&key))).unwrap();
        assert!(one.contains("\"*SIA-DCS\"0001R1L1#AAA["));
        assert!(!one.contains("Stadshuset") && !one.contains("HA"));
        let sealed = one.trim_end_matches('\r').rsplit('[').next().unwrap();
        assert_eq!(sealed.len() % 32, 0, "whole AES blocks, in hex");
        // The same message twice does not encrypt alike (random padding, zero IV).
        let two = String::from_utf8(encode(&route(), 1, &content, at, Some(&key))).unwrap();
        assert_ne!(one, two);
        assert!(Key::parse("short").is_err());
        assert!(Key::parse("0123456789abcdeg").is_err());
    }

    #[test]
    fn only_an_answer_that_names_the_message_sent_is_taken() {
        let at: DateTime<Utc> = "2026-11-30T10:11:12Z".parse().unwrap();
        let r = route();
        let sent = Sent {
            route: &r,
            seq: 7,
            at,
            key: None,
        };
        assert_eq!(
            judge(&frame("\"ACK\"0007R1L1#AAA[]"), &sent),
            Ok(Answer::Ack)
        );
        assert_eq!(
            judge(&frame("\"DUH\"0007R1L1#AAA[]"), &sent),
            Ok(Answer::Duh)
        );
        assert_eq!(
            judge(&frame("\"NAK\"0000R0L0A0[]_10:11:12,11-30-2026"), &sent),
            Ok(Answer::Nak)
        );
        let refused = |bytes: Vec<u8>| judge(&bytes, &sent).unwrap_err();
        assert!(refused(frame("\"ACK\"0006R1L1#AAA[]")).contains("sequence"));
        assert!(refused(frame("\"ACK\"0007R1L1#BBB[]")).contains("account"));
        assert!(refused(frame("\"ACK\"0007R2L1#AAA[]")).contains("receiver"));
        assert!(refused(b"\"ACK\"".to_vec()).contains("end of frame"));
        assert!(refused(b"garbage\r".to_vec()).contains("CRC"));
        let mut broken = frame("\"ACK\"0007R1L1#AAA[]");
        broken[1] = if broken[1] == b'0' { b'1' } else { b'0' };
        assert!(refused(broken).contains("CRC"));
        let body = "\"ACK\"0007R1L1#AAA[]";
        let long = format!(
            "\n{:04X}{:04X}{body}\r",
            crc16(body.as_bytes()),
            body.len() + 1
        );
        assert!(refused(long.into_bytes()).contains("length"));
        assert!(refused(frame("\"OK\"0007R1L1#AAA[]")).contains("unknown"));
        assert!(refused(frame("\"*ACK\"0007R1L1#AAA[00]")).contains("encrypted answer"));
    }

    #[test]
    fn no_bytes_make_the_judge_panic() {
        let key = Key::parse("0123456789abcdef0123456789abcdef").unwrap();
        let r = route();
        let at: DateTime<Utc> = "2026-11-30T10:11:12Z".parse().unwrap();
        let pieces: [&[u8]; 12] = [
            b"\n",
            b"\r",
            b"\"",
            b"*ACK",
            b"0007",
            b"R1L1#AAA[",
            b"]",
            b"_10:11:12,11-30-2026",
            "aää".as_bytes(),
            b"\xff\xfe",
            b"0000",
            b"ABCD",
        ];
        let sent = Sent {
            route: &r,
            seq: 7,
            at,
            key: None,
        };
        assert!(
            judge("aäääxx\r".as_bytes(), &sent).is_err(),
            "a head that is not ASCII"
        );
        for n in 0..20_000u32 {
            let mut bytes = Vec::new();
            let mut x = n.wrapping_mul(2_654_435_761);
            for _ in 0..(n % 9) {
                bytes.extend_from_slice(pieces[(x % 12) as usize]);
                x = x.rotate_left(5) ^ 0x9E37_79B9;
            }
            for key in [None, Some(&key)] {
                let sent = Sent {
                    route: &r,
                    seq: 7,
                    at,
                    key,
                };
                let _ = judge(&bytes, &sent);
                let _ = judge(&frame(&String::from_utf8_lossy(&bytes)), &sent);
            }
        }
    }

    #[test]
    fn an_encrypted_account_takes_only_an_encrypted_ack_in_the_window() {
        let key = Key::parse("0123456789abcdef0123456789abcdef").unwrap();
        let other = Key::parse("fedcba9876543210fedcba9876543210").unwrap();
        let at: DateTime<Utc> = "2026-11-30T10:11:12Z".parse().unwrap();
        let r = route();
        let sent = Sent {
            route: &r,
            seq: 3,
            at,
            key: Some(&key),
        };
        // As pysiaalarm answers: `]`, maybe extended data, the timestamp, zero-padded.
        let ack = |k: &Key, stamp: DateTime<Utc>, xdata: &str| {
            let plain = format!("]{xdata}{}", timestamp(stamp));
            let fill = 16 - plain.len() % 16;
            let padded = format!("{}{plain}", "0".repeat(fill));
            let sealed = hex::encode_upper(k.encrypt(padded.as_bytes()));
            frame(&format!("\"*ACK\"0003R1L1#AAA[{sealed}"))
        };
        let secs = chrono::Duration::seconds;
        assert_eq!(judge(&ack(&key, at + secs(2), ""), &sent), Ok(Answer::Ack));
        assert_eq!(
            judge(&ack(&key, at - secs(19), "[Kx]"), &sent),
            Ok(Answer::Ack)
        );
        assert!(judge(&ack(&key, at + secs(41), ""), &sent)
            .unwrap_err()
            .contains("replay"));
        assert!(judge(&ack(&key, at - secs(3600), ""), &sent)
            .unwrap_err()
            .contains("replay"));
        assert!(
            judge(&ack(&other, at, ""), &sent).is_err(),
            "another key's ACK"
        );
        assert!(judge(&frame("\"ACK\"0003R1L1#AAA[]"), &sent)
            .unwrap_err()
            .contains("clear-text answer"));
        assert!(judge(&frame("\"*ACK\"0003R1L1#AAA[XYZ]"), &sent).is_err());
    }
}
