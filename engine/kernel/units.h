/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * Pure parsers for policy values, with systemd.resource-control(5) semantics so operators read the policy
 * without a manual. Each returns 0, -EINVAL (malformed) or -ERANGE (well-formed but too large / out of
 * bounds), and writes ret_* only on success. No leading or trailing whitespace is accepted (the INI loader
 * strips it); inner whitespace only where systemd allows it ("1G 512M", "1s 500ms", "1.5 G").
 *
 * "infinity" / "max" are not accepted by the numeric parsers: check units_is_infinity() first. The output
 * spelling "max" belongs to cgvalues.
 */

#define UNITS_PERMYRIAD_100 10000ULL /* 100% in hundredths of a percent */
#define UNITS_USEC_PER_SEC  1000000ULL

/* "infinity" or "max": the spellings of "no limit" in the policy. */
bool units_is_infinity(const char *s);

/* Bytes, base 1024: "4096", "512B", "4K", "1.5G", "1G 512M"; suffixes B K M G T P E (upper case, as systemd).
 * Overflow of uint64 → -ERANGE. Fractions are exact (no floating point), rounded down to a byte. */
int units_parse_size(const char *s, uint64_t *ret_bytes);

/* Base 1000, same syntax as units_parse_size: IOReadBandwidthMax ("50M" = 50,000,000 B/s) and the IOPS
 * settings, exactly as systemd parses them (parse_size(..., 1000, ...)). */
int units_parse_size_si(const char *s, uint64_t *ret);

/* Network rate in bits per second, base 1000: "100M" = 100,000,000; "1.5G"; also tc's "bit", "kbit",
 * "mbit", "gbit", "tbit" (case-insensitive). Byte units such as "bps" are refused as ambiguous. */
int units_parse_bitrate(const char *s, uint64_t *ret_bits_per_sec);

/* "150%", "12.5%", "0.01%" → permyriad (hundredths of a percent): 15000, 1250, 1. At most two decimals.
 * Values above max_permyriad → -ERANGE (UNITS_PERMYRIAD_100 for MemoryHigh=50%; UINT64_MAX for CPUQuota,
 * which may exceed 100%). The '%' is required. */
int units_parse_percent(const char *s, uint64_t max_permyriad, uint64_t *ret_permyriad);

/* MemoryHigh / MemoryMax: bytes (units_parse_size), a percentage of physical_memory (at most 100%), or
 * "infinity"/"max" → UINT64_MAX (LIMIT_MAX). A result of 0 bytes is -ERANGE, as in systemd. */
int units_parse_memory_limit(const char *s, uint64_t physical_memory, uint64_t *ret_bytes);

/* Durations as systemd's parse_sec: "100ms", "1s", "2min", "500us", "1h", "1.5s", "1s 500ms"; a bare number
 * is seconds. Units: us usec µs, ms msec, s sec second(s), m min minute(s), h hr hour(s), d day(s),
 * w week(s). Result in microseconds, rounded down. */
int units_parse_duration(const char *s, uint64_t *ret_usec);

/* Decimal unsigned integer in [min, max]: no sign, no suffix, no hex. Out of bounds → -ERANGE. */
int units_parse_uint_range(const char *s, uint64_t min, uint64_t max, uint64_t *ret);

/* yes/no, true/false, on/off, 1/0, y/n, t/f (case-insensitive, as systemd's parse_boolean). */
int units_parse_bool(const char *s, bool *ret);
