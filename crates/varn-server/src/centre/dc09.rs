//! SIA DC-09 framing, as alarm centres (receivers certified to SS-EN 50518) take it over IP:
//! `\n` CRC (4 hex) length (4 hex) `"SIA-DCS"` or `"NULL"` (`"*…"` when encrypted) sequence
//! (4 digits) `R`receiver `L`line `#`account `[`data`]` `_`HH:MM:SS,MM-DD-YYYY `\r`.
//! The CRC is CRC-16/ARC over everything between the length and the `\r`; the length counts
//! the same characters in hex. Encrypted data is AES-CBC with a zero IV over the data and the
//! timestamp, padded at the front to whole blocks, in upper-case hex; the key is used as its
//! characters are (16, 24 or 32 of them), as the receivers in use (and `pysiaalarm`) do.
//! The receiver answers `"ACK"`, `"NAK"` (timestamp or format refused: retry), `"DUH"`
//! (not understood: do not repeat) or `"RSP"`.

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockEncrypt, KeyInit};
use chrono::{DateTime, Utc};

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

/// The AES key of an account: 16, 24 or 32 characters, used as they are.
#[derive(Clone)]
pub struct Key(Vec<u8>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key(AES-{})", self.0.len() * 8)
    }
}

impl Key {
    /// A key of 16, 24 or 32 hexadecimal characters (what receivers are configured with).
    pub fn parse(s: &str) -> Result<Key, String> {
        let s = s.trim();
        if ![16, 24, 32].contains(&s.len()) || !s.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "an alarm-centre key is 16, 24 or 32 hexadecimal characters (got {})",
                s.len()
            ));
        }
        Ok(Key(s.as_bytes().to_vec()))
    }

    fn encrypt(&self, plain: &[u8]) -> Vec<u8> {
        // CBC with a zero IV, block by block (the data is already whole blocks).
        let mut prev = [0u8; 16];
        let mut out = Vec::with_capacity(plain.len());
        for chunk in plain.chunks(16) {
            let mut block = [0u8; 16];
            for (i, b) in chunk.iter().enumerate() {
                block[i] = b ^ prev[i];
            }
            let mut ga = GenericArray::clone_from_slice(&block);
            match self.0.len() {
                16 => aes::Aes128::new_from_slice(&self.0).map(|c| c.encrypt_block(&mut ga)),
                24 => aes::Aes192::new_from_slice(&self.0).map(|c| c.encrypt_block(&mut ga)),
                _ => aes::Aes256::new_from_slice(&self.0).map(|c| c.encrypt_block(&mut ga)),
            }
            .expect("the key's length was checked");
            prev.copy_from_slice(&ga);
            out.extend_from_slice(&ga);
        }
        out
    }
}

/// What a message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// An event: a SIA code (two letters), a zone and a short text.
    Event {
        /// The SIA event code, e.g. `PA`.
        code: &'static str,
        /// The zone (here: which event of the alarm).
        zone: u32,
        /// Plain ASCII text for the operator (no brackets, pipes or carets).
        text: String,
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

/// Text as DC-09 carries it: ASCII, Swedish letters without their marks, no characters the
/// frame uses, at most 64 characters.
pub fn ascii_text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'å' | 'ä' | 'á' | 'à' => 'a',
            'Å' | 'Ä' => 'A',
            'ö' | 'ó' | 'ø' => 'o',
            'Ö' | 'Ø' => 'O',
            'é' | 'è' | 'ë' => 'e',
            'É' => 'E',
            'ü' => 'u',
            'Ü' => 'U',
            c if c.is_ascii_graphic() || c == ' ' => c,
            _ => ' ',
        })
        .filter(|c| !matches!(c, '[' | ']' | '|' | '^' | '"' | '_'))
        .take(64)
        .collect()
}

/// The timestamp as DC-09 writes it (UTC).
fn timestamp(at: DateTime<Utc>) -> String {
    at.format("_%H:%M:%S,%m-%d-%Y").to_string()
}

/// One message, framed and ready to write.
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
        Content::Event { code, zone, text } => {
            let text = ascii_text(text);
            let text = if text.is_empty() {
                String::new()
            } else {
                format!(" {text}")
            };
            format!("#{}|Nri{zone}/{code}{text}]", route.account)
        }
        Content::Null => "]".to_string(),
    };
    let plain = format!("{data}{}", timestamp(at));
    let receiver = if route.receiver.is_empty() {
        String::new()
    } else {
        format!("R{}", route.receiver)
    };
    let head = format!("{seq:04}{receiver}L{}#{}[", route.line, route.account);
    let body = match key {
        None => format!("\"{id}\"{head}{plain}"),
        Some(k) => {
            let fill = (16 - plain.len() % 16) % 16;
            let padded = format!("{}{plain}", "0".repeat(fill));
            let sealed = hex::encode_upper(k.encrypt(padded.as_bytes()));
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

/// Reads an answer from the receiver's bytes: its frame's CRC must hold when it has one.
pub fn parse_answer(bytes: &[u8]) -> Option<Answer> {
    let text = std::str::from_utf8(bytes)
        .ok()?
        .trim_matches(|c| c == '\n' || c == '\r');
    let body = match text.find('"') {
        Some(0) => text,
        Some(i) if i >= 8 => {
            let (head, body) = text.split_at(i);
            let crc = u16::from_str_radix(&head[head.len() - 8..head.len() - 4], 16).ok()?;
            if crc16(body.as_bytes()) != crc {
                return None;
            }
            body
        }
        _ => return None,
    };
    let token = body.strip_prefix('"')?.split('"').next()?;
    match token.trim_start_matches('*') {
        "ACK" => Some(Answer::Ack),
        "NAK" => Some(Answer::Nak),
        "DUH" => Some(Answer::Duh),
        "RSP" => Some(Answer::Rsp),
        _ => None,
    }
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

    #[test]
    fn the_crc_is_crc16_arc() {
        // The standard check value of CRC-16/ARC.
        assert_eq!(crc16(b"123456789"), 0xBB3D);
        assert_eq!(crc16(b""), 0);
    }

    #[test]
    fn a_plain_event_is_framed_with_its_length_and_crc() {
        let at = "2026-11-30T10:11:12Z".parse().unwrap();
        let content = Content::Event {
            code: "PA",
            zone: 1,
            text: "Torget, Nyköping [1]".into(),
        };
        let bytes = encode(&route(), 7, &content, at, None);
        let text = String::from_utf8(bytes).unwrap();
        let body = "\"SIA-DCS\"0007R1L1#AAA[#AAA|Nri1/PA Torget, Nykoping 1]_10:11:12,11-30-2026";
        assert_eq!(
            text,
            format!("\n{:04X}{:04X}{body}\r", crc16(body.as_bytes()), body.len())
        );
    }

    #[test]
    fn an_encrypted_message_carries_no_clear_text_and_whole_blocks() {
        let key = Key::parse("0123456789abcdef").unwrap();
        let at = "2026-11-30T10:11:12Z".parse().unwrap();
        let content = Content::Event {
            code: "HA",
            zone: 1,
            text: "Stadshuset".into(),
        };
        let text = String::from_utf8(encode(&route(), 1, &content, at, Some(&key))).unwrap();
        assert!(text.contains("\"*SIA-DCS\"0001R1L1#AAA["));
        assert!(!text.contains("Stadshuset") && !text.contains("HA"));
        let sealed = text.trim_end_matches('\r').rsplit('[').next().unwrap();
        assert_eq!(sealed.len() % 32, 0, "whole AES blocks, in hex");
        assert!(Key::parse("short").is_err());
        assert!(Key::parse("0123456789abcdeg").is_err());
    }

    #[test]
    fn answers_are_read_and_a_wrong_crc_is_no_answer() {
        let body = "\"ACK\"0007R1L1#AAA[]";
        let framed = format!("\n{:04X}{:04X}{body}\r", crc16(body.as_bytes()), body.len());
        assert_eq!(parse_answer(framed.as_bytes()), Some(Answer::Ack));
        let broken = format!(
            "\n{:04X}{:04X}{body}\r",
            crc16(body.as_bytes()) ^ 1,
            body.len()
        );
        assert_eq!(parse_answer(broken.as_bytes()), None);
        assert_eq!(parse_answer(b"\"NAK\""), Some(Answer::Nak));
        let enc = "\"*ACK\"0001R1L1#AAA[ABCD]";
        let framed = format!("\n{:04X}{:04X}{enc}\r", crc16(enc.as_bytes()), enc.len());
        assert_eq!(parse_answer(framed.as_bytes()), Some(Answer::Ack));
        assert_eq!(parse_answer(b"garbage"), None);
    }
}
