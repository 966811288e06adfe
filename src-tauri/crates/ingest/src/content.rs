//! Content negotiation for OTLP/HTTP bodies: media type, content encoding, and inflation that
//! never produces more than the size limit.

use std::io::Read;

use flate2::read::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};

use crate::error::{IngestError, Result};

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
        let essence = raw
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
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

/// Returns the body inflated, failing with [`IngestError::TooLarge`] as soon as the output would
/// pass `limit`: the decoder is read through `take(limit + 1)`, so a compression bomb costs at
/// most `limit` bytes of memory, never its inflated size.
pub fn inflate(body: bytes::Bytes, encoding: Encoding, limit: usize) -> Result<bytes::Bytes> {
    if body.len() > limit && encoding == Encoding::Identity {
        return Err(IngestError::TooLarge { limit });
    }
    let (name, reader): (&'static str, Box<dyn Read + '_>) = match encoding {
        Encoding::Identity => return Ok(body),
        Encoding::Gzip => ("gzip", Box::new(MultiGzDecoder::new(&body[..]))),
        // HTTP's "deflate" is zlib-wrapped (RFC 9110 §8.4.1.2), but some clients send raw
        // deflate; the zlib header's check bits tell them apart.
        Encoding::Deflate if looks_like_zlib(&body) => {
            ("deflate", Box::new(ZlibDecoder::new(&body[..])))
        }
        Encoding::Deflate => ("deflate", Box::new(DeflateDecoder::new(&body[..]))),
    };
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| IngestError::Decompress {
            encoding: name,
            reason: e.to_string(),
        })?;
    if out.len() > limit {
        return Err(IngestError::TooLarge { limit });
    }
    Ok(out.into())
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
