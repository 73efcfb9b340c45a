package dev.bucketdrive.s3;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.checksums.DefaultChecksumAlgorithm;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

class UnsignedBodySignerTest {

    private static final AwsCredentialsIdentity KEYS = AwsCredentialsIdentity.create("access", "secret");
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-21T10:00:00Z"), ZoneOffset.UTC);
    private static final byte[] BODY = "the body of the object".getBytes(StandardCharsets.UTF_8);

    private static SignRequest<AwsCredentialsIdentity> put(String endpoint) {
        SdkHttpRequest http = SdkHttpRequest.builder().method(SdkHttpMethod.PUT)
                .uri(URI.create(endpoint + "/bucket/key"))
                .putHeader("Content-Length", String.valueOf(BODY.length)).build();
        return SignRequest.builder(KEYS).request(http).payload(ContentStreamProvider.fromByteArray(BODY))
                .putProperty(AwsV4HttpSigner.REGION_NAME, "us-east-1")
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
                .putProperty(AwsV4HttpSigner.SIGNING_CLOCK, CLOCK)
                .build();
    }

    private static String header(SignedRequest signed, String name) {
        return signed.request().firstMatchingHeader(name).orElse(null);
    }

    private static byte[] body(SignedRequest signed) {
        try (InputStream in = signed.payload().orElseThrow().newStream()) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aBodyOverPlainHttpIsSentUnsignedAndWhole() {
        SignedRequest signed = new UnsignedBodySigner().sign(put("http://127.0.0.1:9000"));

        assertThat(header(signed, "x-amz-content-sha256")).isEqualTo("UNSIGNED-PAYLOAD");
        assertThat(signed.request().protocol()).isEqualTo("http");
        assertThat(body(signed)).isEqualTo(BODY);
        // The SDK's own signer, where it allows an unsigned body (HTTPS), signs the same request alike.
        SignRequest<AwsCredentialsIdentity> overTls = put("https://127.0.0.1:9000")
                .copy(r -> r.putProperty(AwsV4HttpSigner.PAYLOAD_SIGNING_ENABLED, false));
        assertThat(header(signed, "Authorization"))
                .startsWith("AWS4-HMAC-SHA256 Credential=access/20261121/us-east-1/s3/aws4_request")
                .isEqualTo(header(AwsV4HttpSigner.create().sign(overTls), "Authorization"));
    }

    @Test
    void aBodyWhoseChecksumTheOperationRequiresIsSignedAsTheSdkDoes() {
        SignRequest<AwsCredentialsIdentity> request = put("http://127.0.0.1:9000")
                .copy(r -> r.putProperty(AwsV4HttpSigner.CHECKSUM_ALGORITHM, DefaultChecksumAlgorithm.CRC32));

        SignedRequest signed = new UnsignedBodySigner().sign(request);

        assertThat(header(signed, "x-amz-content-sha256")).matches("[0-9a-f]{64}");
        assertThat(header(signed, "x-amz-checksum-crc32")).isNotNull();
        assertThat(header(signed, "Authorization")).isEqualTo(header(AwsV4HttpSigner.create().sign(request), "Authorization"));
        assertThat(body(signed)).isEqualTo(BODY);
    }
}
