//! Content negotiation for OTLP/HTTP bodies: media type, content encoding, and inflation that
//! never produces more than the size limit.

use std::io::Read;

use flate2::read::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};

use crate::error::{IngestError, Result};

/// A Content-Type's media type without its parameters (`; charset=utf-8`), lowercased:
/// RFC 9110 makes media types case-insensitive.
pub fn media_type(header: Option<&str>) -> String {
    header
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The OTLP/HTTP body formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Protobuf,
    Json,
}

impl Format {
    /// Parses a Content-Type header. Parameters (`; charset=utf-8`) and case are ignored, as
    /// RFC 9110 says media types are case-insensitive.
    pub fn from_content_type(header: Option<&str>) -> Result<Format> {
        let raw = header.unwrap_or("");
        match media_type(header).as_str() {
            "application/x-protobuf" | "application/protobuf" => Ok(Format::Protobuf),
            "application/json" => Ok(Format::Json),
            _ => Err(IngestError::UnsupportedMediaType(raw.to_owned())),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Protobuf => "application/x-protobuf",
            Format::Json => "application/json",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Protobuf => "protobuf",
            Format::Json => "JSON",
        }
    }
}

/// A Content-Encoding the receiver inflates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Deflate,
}

impl Encoding {
    pub fn from_header(header: Option<&str>) -> Result<Encoding> {
        let raw = header.unwrap_or("").trim();
        match raw.to_ascii_lowercase().as_str() {
            "" | "identity" => Ok(Encoding::Identity),
            "gzip" | "x-gzip" => Ok(Encoding::Gzip),
            "deflate" => Ok(Encoding::Deflate),
            _ => Err(IngestError::UnsupportedEncoding(raw.to_owned())),
        }
    }
}

/// Inflated bodies up to this size are decoded straight into memory. Almost every OTLP request
/// is far smaller; a body that inflates past it is first measured without being kept, so a
/// compression bomb costs at most this much memory, never the cap.
pub const INFLATE_IN_MEMORY: usize = 8 * 1024 * 1024;

/// Returns the body inflated, or [`IngestError::TooLarge`] if it would pass `limit`.
///
/// Inflation never runs past `limit` (every reader goes through `take(limit + 1)`), and memory
/// never holds more than [`INFLATE_IN_MEMORY`] of output until the full size is known to be
/// within `limit`. Bodies larger than that are inflated twice: rare, and cheaper than holding
/// a bomb's worth of output.
pub fn inflate(body: bytes::Bytes, encoding: Encoding, limit: usize) -> Result<bytes::Bytes> {
    if body.len() > limit {
        return Err(IngestError::TooLarge { limit });
    }
    if encoding == Encoding::Identity {
        return Ok(body);
    }
    let first = INFLATE_IN_MEMORY.min(limit);
    let mut reader = decoder(&body, encoding);
    let guess = body.len().saturating_mul(4);
    let out = read(&mut reader, first, encoding, |r| {
        read_growing_once(r, guess, first + 1)
    })?;
    if out.len() <= first {
        return Ok(out.into());
    }
    if first == limit {
        return Err(IngestError::TooLarge { limit });
    }
    let kept = out.len();
    drop(out);
    let rest = read(&mut reader, limit - kept, encoding, |r| {
        std::io::copy(r, &mut std::io::sink()).map(|n| n as usize)
    })?;
    let total = kept + rest;
    if total > limit {
        return Err(IngestError::TooLarge { limit });
    }
    let mut full = Vec::with_capacity(total);
    read(&mut decoder(&body, encoding), limit, encoding, |r| {
        r.read_to_end(&mut full)
    })?;
    Ok(full.into())
}

/// Reads everything from `r` (at most `cap` bytes, which `r` is already limited to). The buffer
/// starts at `guess` and, if that is not enough, grows once, straight to `cap`: doubling would
/// hold the old and the new buffer at once, more memory than the cap suggests.
fn read_growing_once(r: &mut impl Read, guess: usize, cap: usize) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(guess.max(4096).min(cap));
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let n = r.read(&mut chunk)?;
        if n == 0 {
            return Ok(out);
        }
        if out.len() + n > out.capacity() {
            out.reserve_exact(cap.max(out.len() + n) - out.len());
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

/// Runs `f` on at most `max + 1` bytes of `reader`'s output.
fn read<T>(
    reader: &mut (dyn Read + '_),
    max: usize,
    encoding: Encoding,
    f: impl FnOnce(&mut std::io::Take<&mut (dyn Read + '_)>) -> std::io::Result<T>,
) -> Result<T> {
    f(&mut reader.take(max as u64 + 1)).map_err(|e| IngestError::Decompress {
        encoding: match encoding {
            Encoding::Gzip => "gzip",
            _ => "deflate",
        },
        reason: e.to_string(),
    })
}

fn decoder(body: &[u8], encoding: Encoding) -> Box<dyn Read + '_> {
    match encoding {
        Encoding::Identity => Box::new(body),
        Encoding::Gzip => Box::new(MultiGzDecoder::new(body)),
        // HTTP's "deflate" is zlib-wrapped (RFC 9110 §8.4.1.2), but some clients send raw
        // deflate; the zlib header's check bits tell them apart.
        Encoding::Deflate if looks_like_zlib(body) => Box::new(ZlibDecoder::new(body)),
        Encoding::Deflate => Box::new(DeflateDecoder::new(body)),
    }
}

fn looks_like_zlib(body: &[u8]) -> bool {
    match body {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn content_type_parameters_and_case_are_tolerated() {
        assert_eq!(
            Format::from_content_type(Some("Application/JSON; charset=utf-8")).ok(),
            Some(Format::Json)
        );
        assert!(Format::from_content_type(Some("text/plain")).is_err());
        assert!(Format::from_content_type(None).is_err());
    }

    #[test]
    fn inflation_stops_at_the_limit() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![0u8; 10 << 20]).unwrap();
        let body = bytes::Bytes::from(gz.finish().unwrap());
        assert!(matches!(
            inflate(body.clone(), Encoding::Gzip, 1 << 20),
            Err(IngestError::TooLarge { limit: 1048576 })
        ));
        assert_eq!(
            inflate(body, Encoding::Gzip, 10 << 20).unwrap().len(),
            10 << 20
        );
    }

    #[test]
    fn deflate_accepts_zlib_and_raw() {
        let data = b"hello hello hello";
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(data).unwrap();
        let mut r = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        r.write_all(data).unwrap();
        for body in [z.finish().unwrap(), r.finish().unwrap()] {
            assert_eq!(
                &inflate(body.into(), Encoding::Deflate, 100).unwrap()[..],
                data
            );
        }
    }
}
