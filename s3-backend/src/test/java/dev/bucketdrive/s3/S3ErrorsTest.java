package dev.bucketdrive.s3;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bucketdrive.core.store.StoreException.Kind;
import java.net.ConnectException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/** One row per line of the status/code table in {@link S3Errors}. */
class S3ErrorsTest {

    @ParameterizedTest(name = "HTTP {0} {1} -> {2}")
    @CsvSource(nullValues = "-", value = {
            "404, NoSuchKey, NOT_FOUND",
            "404, NoSuchUpload, NOT_FOUND",
            "404, -, NOT_FOUND",
            "404, NoSuchBucket, BUCKET_NOT_FOUND",
            "412, PreconditionFailed, PRECONDITION_FAILED",
            "412, -, PRECONDITION_FAILED",
            "409, ConditionalRequestConflict, TRANSIENT",
            "409, OperationAborted, TRANSIENT",
            "409, BucketNotEmpty, INVALID_REQUEST",
            "403, AccessDenied, ACCESS_DENIED",
            "403, SignatureDoesNotMatch, ACCESS_DENIED",
            "403, InvalidAccessKeyId, ACCESS_DENIED",
            "400, ExpiredToken, ACCESS_DENIED",
            "401, -, ACCESS_DENIED",
            "403, -, ACCESS_DENIED",
            "429, -, THROTTLED",
            "503, SlowDown, THROTTLED",
            "400, TooManyRequests, THROTTLED",
            "503, RequestLimitExceeded, THROTTLED",
            "503, -, TRANSIENT",
            "500, InternalError, TRANSIENT",
            "500, -, TRANSIENT",
            "502, -, TRANSIENT",
            "504, -, TRANSIENT",
            "400, RequestTimeout, TRANSIENT",
            "408, -, TRANSIENT",
            "501, NotImplemented, NOT_IMPLEMENTED",
            "501, -, NOT_IMPLEMENTED",
            "400, NotImplemented, NOT_IMPLEMENTED",
            "400, InvalidPart, INVALID_REQUEST",
            "400, EntityTooSmall, INVALID_REQUEST",
            "400, KeyTooLongError, INVALID_REQUEST",
            "416, InvalidRange, INVALID_REQUEST",
            "400, -, INVALID_REQUEST",
    })
    void statusAndCodeMapToAKind(int status, String code, Kind expected) {
        S3Exception e = (S3Exception) S3Exception.builder().statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage("m").build())
                .build();
        var translated = S3Errors.translate("PUT", "dir/file.txt", e);
        assertThat(translated.kind()).isEqualTo(expected);
        assertThat(translated.getMessage()).contains("PUT dir/file.txt").contains("HTTP " + status);
        assertThat(translated.getCause()).isSameAs(e);
    }

    @Test
    void noAnswerFromTheServerIsTransient() {
        var refused = SdkClientException.builder().message("Unable to execute HTTP request")
                .cause(new ConnectException("Connection refused")).build();
        var t = S3Errors.translate("GET", "k", refused);
        assertThat(t.kind()).isEqualTo(Kind.TRANSIENT);
        assertThat(t.getMessage()).contains("GET k").contains("Connection refused");

        assertThat(S3Errors.translate("GET", "k", ApiCallAttemptTimeoutException.create(1000)).kind())
                .isEqualTo(Kind.TRANSIENT);
    }

    @Test
    void retryableKindsAreExactlyThrottledAndTransient() {
        for (Kind k : Kind.values()) {
            assertThat(k.retryable()).as(k.name()).isEqualTo(k == Kind.THROTTLED || k == Kind.TRANSIENT);
        }
    }
}
