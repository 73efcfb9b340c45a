package dev.bucketdrive.s3;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which requests skip the SDK's pipeline, and where they go. Builds clients only: no request is sent. */
class S3ClientsTest {

    private static DirectObjectRequests direct(S3Options o) {
        try (S3Clients.Clients c = S3Clients.build(o)) {
            return c.direct();
        }
    }

    @Test
    void aCustomEndpointWithChecksumsOnlyWhenRequiredGoesDirect() {
        S3Options.Builder local = S3Options.builder("b").endpoint(URI.create("http://127.0.0.1:9000")).pathStyle(true);
        assertThat(direct(local.build())).as("the default for an endpoint other than AWS").isNotNull();
        assertThat(direct(local.checksums(S3Options.ChecksumMode.WHEN_SUPPORTED).build())).isNull();
        assertThat(direct(S3Options.builder("b").endpoint(URI.create("https://s3.eu-west-1.amazonaws.com"))
                .region("eu-west-1").build())).as("AWS through its endpoint").isNull();
        assertThat(direct(S3Options.builder("b").region("eu-west-1").build())).as("AWS").isNull();
    }

    @Test
    void keysGoUnderTheBucketTheWayTheClientIsConfigured() {
        URI endpoint = URI.create("http://127.0.0.1:9000");
        assertThat(direct(S3Options.builder("b").endpoint(endpoint).pathStyle(true).build()).bucketUrl())
                .isEqualTo(URI.create("http://127.0.0.1:9000/b/"));
        assertThat(direct(S3Options.builder("bench").endpoint(URI.create("http://store.example:9000")).pathStyle(false)
                .build()).bucketUrl()).isEqualTo(URI.create("http://bench.store.example:9000/"));
    }

    @Test
    void s3ErrorDocumentsGiveTheirFields() throws Exception {
        String xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code>"
                + "<Message>The specified bucket does not exist</Message><BucketName>b</BucketName>"
                + "<RequestId>4442587FB7D0A2F9</RequestId></Error>";
        Map<String, String> fields = DirectObjectRequests.documentFields(xml.getBytes(StandardCharsets.UTF_8));
        assertThat(fields).containsEntry("Code", "NoSuchBucket")
                .containsEntry("Message", "The specified bucket does not exist").containsEntry("BucketName", "b");
        assertThat(DirectObjectRequests.documentFields(new byte[0])).isEmpty();
    }
}
