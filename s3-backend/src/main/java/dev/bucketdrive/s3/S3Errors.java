package dev.bucketdrive.s3;

import dev.bucketdrive.core.store.StoreException;
import dev.bucketdrive.core.store.StoreException.Kind;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/** The one place where what S3 answered becomes a {@link StoreException}. */
final class S3Errors {

    private S3Errors() {
    }

    static StoreException translate(String operation, String key, SdkException e) {
        if (e instanceof AwsServiceException service) {
            int status = service.statusCode();
            String code = service.awsErrorDetails() == null ? null : service.awsErrorDetails().errorCode();
            Kind kind = kindOf(status, code);
            String detail = service.awsErrorDetails() == null ? null : service.awsErrorDetails().errorMessage();
            return new StoreException(kind, operation + " " + key + ": HTTP " + status
                    + (code == null ? "" : " " + code) + (detail == null ? "" : " (" + detail + ")"), e);
        }
        String reason = e instanceof SdkClientException ? "no answer from the server" : "request failed";
        return new StoreException(Kind.TRANSIENT, operation + " " + key + ": " + reason + ": " + rootMessage(e), e);
    }

    /** The table: HTTP status and S3 error code to what the drive needs to know. */
    static Kind kindOf(int status, String code) {
        if (code != null) {
            switch (code) {
                case "NoSuchBucket" -> { return Kind.BUCKET_NOT_FOUND; }
                case "SlowDown", "TooManyRequests", "RequestLimitExceeded" -> { return Kind.THROTTLED; }
                case "RequestTimeout", "InternalError", "OperationAborted", "ConditionalRequestConflict" -> {
                    return Kind.TRANSIENT;
                }
                case "ExpiredToken", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied" -> {
                    return Kind.ACCESS_DENIED;
                }
                case "NotImplemented" -> { return Kind.NOT_IMPLEMENTED; }
                case "PreconditionFailed" -> { return Kind.PRECONDITION_FAILED; }
                default -> { }
            }
        }
        return switch (status) {
            case 401, 403 -> Kind.ACCESS_DENIED;
            case 404 -> Kind.NOT_FOUND;
            case 408 -> Kind.TRANSIENT;
            case 412 -> Kind.PRECONDITION_FAILED;
            case 429 -> Kind.THROTTLED;
            case 501 -> Kind.NOT_IMPLEMENTED;
            default -> status >= 500 ? Kind.TRANSIENT : Kind.INVALID_REQUEST;
        };
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " / " + t;
    }
}
