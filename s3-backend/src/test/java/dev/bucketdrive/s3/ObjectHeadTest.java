package dev.bucketdrive.s3;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

class ObjectHeadTest {

    private static ObjectHead withRange(long length, String range) {
        return new ObjectHead(length, range, "\"e\"", null, Map.of(), null);
    }

    @Test
    void theObjectsSizeIsTheTotalOfTheContentRangeElseTheBodysLength() {
        assertThat(withRange(100, "bytes 0-99/5000").objectSize()).isEqualTo(5000);
        assertThat(withRange(1, "bytes 4999-4999/ 5000").objectSize()).isEqualTo(5000);
        assertThat(withRange(100, "bytes 0-99/*").objectSize()).as("a total the server does not know").isEqualTo(100);
        assertThat(withRange(7, null).objectSize()).isEqualTo(7);
    }

    @Test
    void theSdksAnswersCarryTheSameFields() {
        Instant t = Instant.parse("2026-11-24T06:00:00Z");
        ObjectHead get = ObjectHead.of(GetObjectResponse.builder().contentLength(10L).contentRange("bytes 0-9/20")
                .eTag("\"g\"").lastModified(t).metadata(Map.of("mode", "420")).contentType("text/plain").build());
        assertThat(get).isEqualTo(new ObjectHead(10L, "bytes 0-9/20", "\"g\"", t, Map.of("mode", "420"), "text/plain"));
        ObjectHead head = ObjectHead.of(HeadObjectResponse.builder().contentLength(20L).eTag("\"h\"").lastModified(t)
                .metadata(Map.of()).contentType("binary/octet-stream").build());
        assertThat(head).isEqualTo(new ObjectHead(20L, null, "\"h\"", t, Map.of(), "binary/octet-stream"));
        assertThat(head.objectSize()).isEqualTo(20);
    }
}
