package dev.bucketdrive.s3;

import java.time.Instant;
import java.time.LocalDate;
import software.amazon.awssdk.utils.DateUtils;

/**
 * Reads the HTTP date of a {@code Last-Modified} header. Servers send the IMF-fixdate form
 * ({@code Sun, 06 Nov 1994 08:49:37 GMT}); that is read by its fixed positions (a one-digit day too),
 * anything else by the SDK's parser, whose {@code DateTimeFormatter} takes 3–4 µs a date against
 * 0.1 µs (docs/BENCHMARKS.md, session 18).
 */
final class HttpDates {

    private static final String MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";

    private HttpDates() {
    }

    static Instant parse(String text) {
        Instant fixed = parseFixdate(text);
        return fixed != null ? fixed : DateUtils.parseRfc1123Date(text);
    }

    /** The IMF-fixdate (or RFC 1123 with a one-digit day, as the SDK writes it); {@code null} for anything else. */
    static Instant parseFixdate(String text) {
        int d = text.length() - 29; // 0, or -1 for a one-digit day
        if (d < -1 || d > 0 || text.charAt(3) != ',' || text.charAt(4) != ' ' || text.charAt(7 + d) != ' '
                || text.charAt(11 + d) != ' ' || text.charAt(16 + d) != ' ' || text.charAt(19 + d) != ':'
                || text.charAt(22 + d) != ':' || !text.endsWith(" GMT")) {
            return null;
        }
        int month = MONTHS.indexOf(text.substring(8 + d, 11 + d));
        int day = digits(text, 5, 2 + d);
        int year = digits(text, 12 + d, 4);
        int hour = digits(text, 17 + d, 2);
        int minute = digits(text, 20 + d, 2);
        int second = digits(text, 23 + d, 2);
        if (month < 0 || month % 3 != 0 || day < 1 || year < 0 || hour > 23 || minute > 59 || second > 59) {
            return null;
        }
        try {
            long days = LocalDate.of(year, month / 3 + 1, day).toEpochDay();
            return Instant.ofEpochSecond(days * 86_400 + hour * 3_600L + minute * 60L + second);
        } catch (java.time.DateTimeException e) {
            return null; // 31 Feb and the like
        }
    }

    /** The decimal number of {@code count} digits at {@code from}; -1 if any is not a digit. */
    private static int digits(String text, int from, int count) {
        int n = 0;
        for (int i = from; i < from + count; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }
}
