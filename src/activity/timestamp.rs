//! Cordial's timestamps → RFC 3339 UTC, on the hot path of Import Activity (two per record).
//!
//! The forms Cordial writes (`2017-03-13T22:02:42+0000`, `…Z`, with or without a fraction,
//! `+00:00`, a space for the `T`) are read by hand: chrono's format-string parser builds
//! and drops its format items on every call, which made timestamps the largest single cost
//! of mapping a record (more so inside the component, where every allocation is dearer).
//! chrono still checks the calendar and does the offset arithmetic.

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta, Timelike};
use std::fmt::Write;

/// `text` as RFC 3339 UTC with `Z`, the fraction in milli-, micro- or nanoseconds as needed
/// (chrono's `SecondsFormat::AutoSi`).
pub fn to_utc(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(30);
    push_utc(&mut out, text)?;
    Ok(out)
}

/// Appends `text` as [`to_utc`] writes it to `out` (nothing when it is not a timestamp).
pub fn push_utc(out: &mut String, text: &str) -> Result<(), String> {
    let t = text.trim();
    let utc =
        read(t.as_bytes()).ok_or_else(|| format!("`{t}` is not a timestamp Cordial writes"))?;
    write(out, &utc);
    Ok(())
}

/// The UTC time `t` stands for, if it has one of Cordial's forms.
fn read(t: &[u8]) -> Option<NaiveDateTime> {
    let number = |at: usize, len: usize| -> Option<u32> {
        let digits = t.get(at..at + len)?;
        digits.iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let punctuation = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if punctuation.iter().any(|(at, c)| t.get(*at) != Some(c))
        || !matches!(t.get(10), Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(number(0, 4)? as i32, number(5, 2)?, number(8, 2)?)?;
    let mut at = 19;
    let mut nanos = 0u32;
    if t.get(at) == Some(&b'.') {
        let digits = t[at + 1..]
            .iter()
            .take_while(|d| d.is_ascii_digit())
            .count();
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = number(at + 1, digits)? * 10u32.pow(9 - digits as u32);
        at += 1 + digits;
    }
    let local = date.and_hms_nano_opt(number(11, 2)?, number(14, 2)?, number(17, 2)?, nanos)?;
    let offset_seconds = match &t[at..] {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let minutes = match rest.len() {
                4 => number(at + 1, 2)? * 60 + number(at + 3, 2)?,
                5 if rest[2] == b':' => number(at + 1, 2)? * 60 + number(at + 4, 2)?,
                _ => return None,
            };
            if minutes >= 24 * 60 {
                return None;
            }
            let seconds = i64::from(minutes) * 60;
            if *sign == b'+' { seconds } else { -seconds }
        }
        _ => return None,
    };
    local.checked_sub_signed(TimeDelta::seconds(offset_seconds))
}

/// Digits pushed one by one: `write!` goes through `core::fmt`, which costs more than the
/// rest of a record's mapping inside the component.
fn write(out: &mut String, utc: &NaiveDateTime) {
    let (date, time) = (utc.date(), utc.time());
    // Years before 0 or after 9999 do not occur in Cordial's data; chrono's own writing
    // (with a sign) covers them.
    if !(0..=9999).contains(&date.year()) {
        let _ = write!(out, "{}", utc.format("%Y-%m-%dT%H:%M:%S"));
    } else {
        push_digits(out, date.year() as u32, 4);
        out.push('-');
        push_digits(out, date.month(), 2);
        out.push('-');
        push_digits(out, date.day(), 2);
        out.push('T');
        push_digits(out, time.hour(), 2);
        out.push(':');
        push_digits(out, time.minute(), 2);
        out.push(':');
        push_digits(out, time.second(), 2);
    }
    match time.nanosecond() {
        0 => {}
        n if n % 1_000_000 == 0 => {
            out.push('.');
            push_digits(out, n / 1_000_000, 3);
        }
        n if n % 1_000 == 0 => {
            out.push('.');
            push_digits(out, n / 1_000, 6);
        }
        n => {
            out.push('.');
            push_digits(out, n, 9);
        }
    }
    out.push('Z');
}

/// The last `width` decimal digits of `n`, zero-padded.
fn push_digits(out: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        out.push(char::from(b'0' + (n / 10u32.pow(place) % 10) as u8));
    }
}

/// chrono's own reading and writing of the same forms: what [`to_utc`] must agree with.
#[cfg(test)]
fn by_chrono(t: &str) -> Option<String> {
    use chrono::DateTime;
    DateTime::parse_from_rfc3339(t)
        .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f%z"))
        .ok()
        .map(|p| {
            p.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_cordial_writes_agrees_with_chrono() {
        for t in [
            "2017-03-13T22:02:42+0000",
            "2017-03-13T22:02:42Z",
            "2017-03-13T22:02:42.000Z",
            "2017-03-13 22:02:42+00:00",
            "2017-03-23T22:34:37+0200",
            "2017-03-23T20:00:00.250Z",
            "2017-03-23T20:00:00.250001-05:30",
            "2017-03-23T20:00:00.123456789+0000",
            "2016-02-29T23:59:59-1000",
            "2017-01-01T00:30:00+0100",
            "0000-01-01T00:30:00+0100",
            "9999-12-31T23:30:00-0100",
            "0007-05-06T07:08:09.000000001Z",
        ] {
            assert_eq!(to_utc(t).ok(), by_chrono(t), "{t}");
            assert!(to_utc(t).is_ok(), "{t}");
        }
    }

    #[test]
    fn anything_else_is_refused_as_chrono_refuses_it() {
        for t in [
            "13/03/2017",
            "2017-02-30T00:00:00Z",
            "2017-03-13T24:00:00Z",
            "2017-03-13T22:02:42",
            "2017-03-13T22:02:42+00",
            "2017-03-13T22:02:42.Z",
            "2017-03-13T22:02:42+2400",
            "2017-3-13T22:02:42Z",
            "",
            "2017-03-13T22:02:42Zjunk",
        ] {
            assert_eq!(to_utc(t).ok(), None, "{t}");
            assert_eq!(by_chrono(t), None, "chrono refuses {t} too");
        }
    }
}
