package dev.bucketdrive.s3;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.utils.DateUtils;

class HttpDatesTest {

    @Test
    void readsEveryFixdateAsTheSdkDoes() {
        Random random = new Random(3);
        for (int i = 0; i < 20_000; i++) {
            // 1970 to about 2106, whole seconds: what Last-Modified carries
            Instant t = Instant.ofEpochSecond(random.nextLong(0, 1L << 32));
            String text = DateUtils.formatRfc1123Date(t); // one-digit days unpadded, as RFC 1123 allows
            String fixdate = text.charAt(6) == ' ' ? text.substring(0, 5) + "0" + text.substring(5) : text;
            assertThat(HttpDates.parseFixdate(text)).as(text).isEqualTo(t).isEqualTo(DateUtils.parseRfc1123Date(text));
            assertThat(HttpDates.parseFixdate(fixdate)).as(fixdate).isEqualTo(t);
        }
        assertThat(HttpDates.parse("Sun, 06 Nov 1994 08:49:37 GMT")).isEqualTo(Instant.parse("1994-11-06T08:49:37Z"));
        assertThat(HttpDates.parse("Thu, 29 Feb 2024 23:59:59 GMT")).isEqualTo(Instant.parse("2024-02-29T23:59:59Z"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "Sun, 06 Nov 1994 08:49:60 GMT", // a leap second: the SDK's parser decides
        "Sun, 06 Nov 1994 08:49:37 +0000",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 Nox 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:49:37 GMT",
        "Sun, 06 Nov 19x4 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "",
    })
    void leavesAnythingElseToTheSdk(String text) {
        assertThat(HttpDates.parseFixdate(text)).isNull();
    }

    @Test
    void theSdkStillReadsTheFormsItKnows() {
        Instant t = Instant.parse("1994-11-06T08:49:37Z");
        assertThat(HttpDates.parse("Sun, 06 Nov 1994 08:49:37 +0000")).isEqualTo(t);
        assertThat(HttpDates.parse("06 Nov 1994 08:49:37 GMT")).isEqualTo(t);
    }
}
