//! RFC 3339 date-times (`created`, a Standard Webhooks body's `timestamp`), read by hand on top of `time`'s
//! calendar types so the WebAssembly build does not carry `time`'s general parser (about 9 KiB of the
//! 150 KiB budget). It accepts exactly what `OffsetDateTime::parse(text, &Rfc3339)` accepts, with the
//! same result, except instants before year 1 UTC (`0000-…`, or `0001-01-01T00:00:00+01:00`), which no
//! binding's host type can hold: the tests below compare the two on generated and mutated date-times.

use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

/// `YYYY-MM-DD?HH:MM:SS[.fraction](Z|±HH:MM)`: any one byte between date and time (RFC 3339 §5.6
/// allows a space), a leap second `:60` only where one can occur (read as 23:59:59.999999999 UTC of a
/// month's last day), digits of a fraction beyond nanoseconds ignored.
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    let bytes = text.as_bytes();
    let number = |at: usize, len: usize| -> Option<u16> {
        bytes.get(at..at + len)?.iter().try_fold(0u16, |value, &digit| {
            digit.is_ascii_digit().then(|| value * 10 + u16::from(digit - b'0'))
        })
    };
    let literal = |at: usize, expected: u8| (bytes.get(at) == Some(&expected)).then_some(());
    let year = number(0, 4)?;
    literal(4, b'-')?;
    let month = Month::try_from(u8::try_from(number(5, 2)?).ok()?).ok()?;
    literal(7, b'-')?;
    let day = number(8, 2)?;
    let hour = number(11, 2)?;
    literal(13, b':')?;
    let minute = number(14, 2)?;
    literal(16, b':')?;
    let mut second = number(17, 2)?;
    let mut at = 19;
    let mut nanosecond = 0u32;
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        let digits = bytes[at..].iter().take_while(|byte| byte.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let kept = &bytes[at..at + digits.min(9)];
        nanosecond = kept.iter().fold(0, |value, &digit| value * 10 + u32::from(digit - b'0'));
        nanosecond *= 10u32.pow(9 - kept.len() as u32);
        at += digits;
    }
    let offset = match &bytes[at..] {
        [b'Z' | b'z'] => UtcOffset::UTC,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let hours = number(at + 1, 2).filter(|hours| *hours <= 23)?;
            let minutes = number(at + 4, 2)?;
            let (hours, minutes) = (i8::try_from(hours).ok()?, i8::try_from(minutes).ok()?);
            let sign = if *sign == b'-' { -1 } else { 1 };
            UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?
        }
        _ => return None,
    };
    let leap_second = second == 60;
    if leap_second {
        second = 59;
        nanosecond = 999_999_999;
    }
    let date = Date::from_calendar_date(i32::from(year), month, u8::try_from(day).ok()?).ok()?;
    let time =
        Time::from_hms_nano(u8::try_from(hour).ok()?, u8::try_from(minute).ok()?, second as u8, nanosecond)
            .ok()?;
    let at = date.with_time(time).assume_offset(offset);
    // Every host can hold an instant of years 1 to 9999 UTC (Python's `datetime` holds nothing earlier),
    // so one rule refuses the rest for all bindings instead of each failing its own way. An offset is less
    // than a day, so only years 0, 1 and 9999 can be outside in UTC: the conversion is skipped otherwise.
    if leap_second || year <= 1 || year >= 9999 {
        let utc = at.checked_to_offset(UtcOffset::UTC)?;
        if utc.year() < 1 {
            return None;
        }
        if leap_second {
            let last_moment = (utc.hour(), utc.minute(), utc.second()) == (23, 59, 59);
            if !last_moment || utc.day() != utc.month().length(utc.year()) {
                return None;
            }
        }
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::format_description::well_known::Rfc3339;

    use super::*;

    /// Date-times near the grammar: mostly valid, with leap seconds, month ends, odd offsets and fractions,
    /// then sometimes one byte changed, cut short or extended.
    fn near_rfc3339() -> impl Strategy<Value = String> {
        let text = (
            prop_oneof![Just(1970u16), Just(2016), Just(2024), Just(2026), Just(9999), Just(0), 0u16..10000],
            0u8..14,
            prop_oneof![0u8..33, Just(28), Just(29), Just(30), Just(31)],
            prop_oneof![Just('T'), Just('t'), Just(' '), Just('x')],
            prop_oneof![0u8..25, Just(23)],
            prop_oneof![0u8..61, Just(59)],
            prop_oneof![0u8..62, Just(59), Just(60)],
            prop_oneof![Just(String::new()), "\\.[0-9]{0,12}"],
            prop_oneof![
                Just("Z".to_owned()),
                Just("z".to_owned()),
                "[+-][0-2][0-9]:[0-6][0-9]",
                Just(String::new())
            ],
        )
            .prop_map(|(year, month, day, sep, hour, minute, second, fraction, offset)| {
                format!(
                    "{year:04}-{month:02}-{day:02}{sep}{hour:02}:{minute:02}:{second:02}{fraction}{offset}"
                )
            });
        (text, any::<Option<(prop::sample::Index, u8)>>(), 0usize..3).prop_map(|(text, change, cut)| {
            let mut bytes = text.into_bytes();
            if let Some((at, byte)) = change {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
            bytes.truncate(bytes.len().saturating_sub(if cut == 1 { 1 } else { 0 }));
            if cut == 2 {
                bytes.push(b'0');
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    }

    /// `time`'s RFC 3339 parser, limited to instants of years 1 to 9999 UTC like [`parse`].
    fn time_parse(text: &str) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .filter(|at| at.checked_to_offset(UtcOffset::UTC).is_some_and(|utc| utc.year() >= 1))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

        #[test]
        fn accepts_exactly_what_time_accepts(text in near_rfc3339()) {
            prop_assert_eq!(parse(&text), time_parse(&text), "{:?}", text);
        }
    }

    #[test]
    fn edge_cases_agree_with_time() {
        for text in [
            "2026-05-24T12:18:05.123Z",
            "2016-12-31T23:59:60Z",
            "2016-12-31T23:59:60.5Z",
            "2016-12-30T23:59:60Z",
            "2017-01-01T00:59:60+01:00",
            "2026-05-24T12:18:05.1234567891234Z",
            "2026-05-24T12:18:05.Z",
            "2026-05-24T12:18:05+23:59",
            "2026-05-24T12:18:05+24:00",
            "2026-05-24T12:18:05-00:60",
            "2026-02-29T00:00:00Z",
            "2024-02-29T00:00:00Z",
            "9999-12-31T23:59:60-01:00",
            "0000-01-01T00:00:00+01:00",
            "0000-12-31T23:59:59Z",
            "0001-01-01T00:00:00Z",
            "0001-01-01T00:30:00+01:00",
            "0001-01-01T00:00:00-01:00",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59-00:01",
            "2026-05-24\u{e9}12:18:05Z",
            "2026-05-24T12:18:05",
            "",
        ] {
            assert_eq!(parse(text), time_parse(text), "{text:?}");
        }
        assert!(parse("2026-05-24T12:18:05.123Z").is_some());
        assert!(parse("0001-01-01T00:00:00Z").is_some());
        assert!(parse("0000-12-31T23:59:59Z").is_none());
        assert!(parse("0001-01-01T00:30:00+01:00").is_none());
        assert!(parse("9999-12-31T23:59:59Z").is_some());
        assert!(parse("9999-12-31T23:59:59-00:01").is_none());
    }
}
