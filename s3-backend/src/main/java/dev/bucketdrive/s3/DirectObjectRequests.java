package dev.bucketdrive.s3;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.AbortableInputStream;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.utils.http.SdkHttpUtils;

/**
 * HEAD, GET and PUT of one object and the steps of a multipart upload (create, part, complete,
 * abort), signed by the SDK's SigV4 signer and sent through the SDK's HTTP client, without the SDK's
 * request pipeline (interceptors, endpoint and auth-scheme rules, the marshallers), which cost more
 * CPU than the exchange itself on a small object: a HEAD against S3Proxy took 0.34–0.41 ms of client
 * CPU through {@code S3Client} and 0.18 ms this way (docs/BENCHMARKS.md, session 17). A drive sends
 * thousands of these for a tree of small files, and a new mount's first big file otherwise has the
 * JIT compile about a thousand of the pipeline's methods while its parts go out (session 18).
 *
 * <p>Used only where the SDK would add nothing to such a request either: a custom endpoint with
 * checksums only when required (see {@link S3Clients}). A HEAD or GET answers with an {@link ObjectHead}
 * (as the SDK path's answers are turned into), and a failure is the {@link S3Exception} or
 * {@link SdkClientException} the SDK would throw, so the callers and {@link S3Errors} treat both paths
 * alike. Payloads are not signed (as the SDK does over HTTPS; see {@link UnsignedBodySigner} for plain
 * HTTP).
 */
final class DirectObjectRequests {

    private static final String META = "x-amz-meta-";
    /** Bodies from this size on wait for the server's go-ahead ({@link #withBodyLength}). */
    static final long EXPECT_CONTINUE_FROM = 1024 * 1024;
    /** The key under which {@link #documentFields} gives the root element's name (not an XML name). */
    static final String ROOT = "<root>";
    private static final ContentStreamProvider NO_CONTENT = InputStream::nullInputStream;
    private static final XMLInputFactory XML = XMLInputFactory.newFactory();

    static {
        XML.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        XML.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
    }

    private final SdkHttpClient http;
    private final AwsCredentialsProvider credentials;
    private final String region;
    private final URI bucketUrl;
    private final AwsV4HttpSigner signer = AwsV4HttpSigner.create();

    /** @param bucketUrl the URL of the bucket's keys: a key's URL is this followed by the encoded key */
    DirectObjectRequests(SdkHttpClient http, AwsCredentialsProvider credentials, String region, URI bucketUrl) {
        if (!bucketUrl.getRawPath().endsWith("/")) {
            throw new IllegalArgumentException("the bucket URL must end with '/': " + bucketUrl);
        }
        this.http = http;
        this.credentials = credentials;
        this.region = region;
        this.bucketUrl = bucketUrl;
    }

    URI bucketUrl() {
        return bucketUrl;
    }

    ObjectHead headObject(String key) {
        HttpExecuteResponse r = send(request(SdkHttpMethod.HEAD, key), null);
        SdkHttpResponse h = r.httpResponse();
        closeQuietly(r.responseBody());
        failUnlessSuccessful(h, Optional.empty());
        return objectHead(h);
    }

    /**
     * @param range an HTTP range ({@code bytes=0-99}); {@code ifMatch} may be {@code null}
     * @return the answer's body, with no timeout of its own: the caller reads it at once (the SDK's
     *     default would schedule a task on a timer thread for every GET, to abort a body left unread)
     */
    ResponseInputStream<ObjectHead> getObject(String key, String range, String ifMatch) {
        SdkHttpFullRequest.Builder req = request(SdkHttpMethod.GET, key).putHeader("Range", range);
        if (ifMatch != null) {
            req.putHeader("If-Match", ifMatch);
        }
        HttpExecuteResponse r = send(req, null);
        SdkHttpResponse h = r.httpResponse();
        failUnlessSuccessful(h, r.responseBody());
        ObjectHead head = objectHead(h);
        AbortableInputStream body = r.responseBody()
                .orElseGet(() -> AbortableInputStream.create(InputStream.nullInputStream()));
        return new ResponseInputStream<>(head, body, Duration.ZERO);
    }

    private static ObjectHead objectHead(SdkHttpResponse h) {
        return new ObjectHead(longHeader(h, "Content-Length"), header(h, "Content-Range"), header(h, "ETag"),
                lastModified(h), metadata(h), header(h, "Content-Type"));
    }

    /**
     * @param conditions {@code If-Match} / {@code If-None-Match} headers, none for an unconditional PUT
     * @return the new object's ETag
     */
    String putObject(String key, RequestBody body, Map<String, String> metadata, String contentType,
                     Map<String, String> conditions) {
        SdkHttpFullRequest.Builder req = withContentHeaders(withBodyLength(request(SdkHttpMethod.PUT, key), body),
                metadata, contentType);
        conditions.forEach(req::putHeader);
        return header(headersOf(send(req, body.contentStreamProvider())), "ETag");
    }

    /** @return the new upload's id */
    String createMultipartUpload(String key, Map<String, String> metadata, String contentType) {
        SdkHttpFullRequest.Builder req = withContentHeaders(request(SdkHttpMethod.POST, key)
                .putRawQueryParameter("uploads", "").putHeader("Content-Length", "0"), metadata, contentType);
        Map<String, String> result = resultFields(send(req, NO_CONTENT), "InitiateMultipartUploadResult");
        String id = result.get("UploadId");
        if (id == null || id.isEmpty()) {
            throw SdkClientException.create("no UploadId in the answer to CreateMultipartUpload of " + key);
        }
        return id;
    }

    /** @return the part's ETag */
    String uploadPart(String key, String uploadId, int partNumber, RequestBody body) {
        SdkHttpFullRequest.Builder req = withBodyLength(request(SdkHttpMethod.PUT, key)
                .putRawQueryParameter("partNumber", Integer.toString(partNumber))
                .putRawQueryParameter("uploadId", uploadId), body);
        return header(headersOf(send(req, body.contentStreamProvider())), "ETag");
    }

    /**
     * The body's length, and for a body of at least {@link #EXPECT_CONTINUE_FROM} bytes
     * {@code Expect: 100-continue}: the server may refuse such a request before its body is sent, at
     * the cost of one round trip more. A small body goes at once: the round trip would cost more than
     * sending it for nothing. The SDK's own S3 requests draw the same line ({@code S3Configuration}'s
     * expect-continue threshold, 1 MiB by default); the HTTP client adds no such header itself.
     */
    private static SdkHttpFullRequest.Builder withBodyLength(SdkHttpFullRequest.Builder req, RequestBody body) {
        long length = body.optionalContentLength().orElseThrow();
        req.putHeader("Content-Length", Long.toString(length));
        if (length >= EXPECT_CONTINUE_FROM) {
            req.putHeader("Expect", "100-continue");
        }
        return req;
    }

    /**
     * @param parts part numbers in ascending order, each with its ETag
     * @param conditions as for {@link #putObject}
     * @return the ETag the server answered with
     */
    String completeMultipartUpload(String key, String uploadId, List<Map.Entry<Integer, String>> parts,
                                   Map<String, String> conditions) {
        StringBuilder xml = new StringBuilder(
                "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
        for (Map.Entry<Integer, String> part : parts) {
            xml.append("<Part><PartNumber>").append(part.getKey()).append("</PartNumber><ETag>")
                    .append(escapeXml(part.getValue())).append("</ETag></Part>");
        }
        byte[] body = xml.append("</CompleteMultipartUpload>").toString().getBytes(StandardCharsets.UTF_8);
        SdkHttpFullRequest.Builder req = request(SdkHttpMethod.POST, key).putRawQueryParameter("uploadId", uploadId)
                .putHeader("Content-Length", Integer.toString(body.length))
                .putHeader("Content-Type", "application/xml");
        conditions.forEach(req::putHeader);
        HttpExecuteResponse r = send(req, () -> new ByteArrayInputStream(body));
        return resultFields(r, "CompleteMultipartUploadResult").get("ETag");
    }

    void abortMultipartUpload(String key, String uploadId) {
        headersOf(send(request(SdkHttpMethod.DELETE, key).putRawQueryParameter("uploadId", uploadId), null));
    }

    /** The object's metadata and content type, as a PUT and a CreateMultipartUpload send them. */
    private static SdkHttpFullRequest.Builder withContentHeaders(SdkHttpFullRequest.Builder req,
                                                                 Map<String, String> metadata, String contentType) {
        req.putHeader("Content-Type", contentType == null ? "binary/octet-stream" : contentType);
        metadata.forEach((name, value) -> req.putHeader(META + name, value));
        return req;
    }

    /** The headers of a successful answer whose body is of no use; fails as the SDK would otherwise. */
    private static SdkHttpResponse headersOf(HttpExecuteResponse r) {
        failUnlessSuccessful(r.httpResponse(), r.responseBody());
        closeQuietly(r.responseBody());
        return r.httpResponse();
    }

    /**
     * The fields of a successful answer's XML document named {@code root}. A 200 whose document is
     * S3's {@code <Error>} (CompleteMultipartUpload can fail after its status line went out) or is not
     * {@code root} at all fails as a server error would, so it is retried.
     */
    private static Map<String, String> resultFields(HttpExecuteResponse r, String root) {
        SdkHttpResponse h = r.httpResponse();
        failUnlessSuccessful(h, r.responseBody());
        Map<String, String> fields;
        try (InputStream in = r.responseBody().orElseThrow(() -> SdkClientException.create("no body in the answer"))) {
            fields = documentFields(in.readNBytes(1 << 20));
        } catch (IOException | XMLStreamException e) {
            throw SdkClientException.create("unreadable answer: " + e.getMessage(), e);
        }
        if (!root.equals(fields.get(ROOT))) {
            String code = fields.getOrDefault("Code", "InternalError");
            String text = "a 200 answer with "
                    + (fields.containsKey(ROOT) ? "<" + fields.get(ROOT) + ">" : "no document")
                    + (fields.containsKey("Message") ? ": " + fields.get("Message") : "");
            throw S3Exception.builder().statusCode(500).message(text)
                    .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(text).serviceName("S3")
                            .sdkHttpResponse(h).build())
                    .build();
        }
        return fields;
    }

    private static String escapeXml(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private SdkHttpFullRequest.Builder request(SdkHttpMethod method, String key) {
        return SdkHttpFullRequest.builder().method(method).protocol(bucketUrl.getScheme())
                .host(bucketUrl.getHost()).port(bucketUrl.getPort() == -1 ? null : bucketUrl.getPort())
                .encodedPath(bucketUrl.getRawPath() + SdkHttpUtils.urlEncodeIgnoreSlashes(key));
    }

    private HttpExecuteResponse send(SdkHttpFullRequest.Builder request, ContentStreamProvider content) {
        SdkHttpFullRequest unsigned = request.build();
        AwsCredentialsIdentity identity = credentials.resolveIdentity().join();
        SdkHttpFullRequest signed = (SdkHttpFullRequest) signer.sign(r -> r.identity(identity).request(unsigned)
                .putProperty(AwsV4HttpSigner.SERVICE_SIGNING_NAME, "s3")
                .putProperty(AwsV4HttpSigner.REGION_NAME, region)
                .putProperty(AwsV4HttpSigner.PAYLOAD_SIGNING_ENABLED, false)
                .putProperty(AwsV4HttpSigner.DOUBLE_URL_ENCODE, false)
                .putProperty(AwsV4HttpSigner.NORMALIZE_PATH, false)).request();
        try {
            return http.prepareRequest(HttpExecuteRequest.builder().request(signed).contentStreamProvider(content)
                    .build()).call();
        } catch (IOException e) {
            throw SdkClientException.create("no answer to " + unsigned.method() + " " + unsigned.encodedPath()
                    + ": " + e, e);
        }
    }

    /** Throws what the SDK would for an answer other than 2xx, with S3's error code from the body. */
    private static void failUnlessSuccessful(SdkHttpResponse h, Optional<AbortableInputStream> body) {
        if (h.isSuccessful()) {
            return;
        }
        String code = null;
        String message = null;
        if (body.isPresent()) {
            try (InputStream in = body.get()) {
                Map<String, String> error = documentFields(in.readNBytes(64 * 1024));
                code = error.get("Code");
                message = error.get("Message");
            } catch (IOException | XMLStreamException e) {
                message = "unreadable error body: " + e.getMessage();
            }
        }
        String text = message != null ? message : h.statusText().orElse("HTTP " + h.statusCode());
        throw S3Exception.builder().statusCode(h.statusCode()).message(text)
                .requestId(h.firstMatchingHeader("x-amz-request-id").orElse(null))
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage(text).serviceName("S3")
                        .sdkHttpResponse(h).build())
                .build();
    }

    /**
     * The child elements of an XML document's root by name, with the root's own name under {@link #ROOT}
     * (an empty body has none). Enough for S3's flat answers: {@code <Error>}, and the results of
     * creating and completing a multipart upload.
     */
    static Map<String, String> documentFields(byte[] xml) throws XMLStreamException {
        Map<String, String> fields = new HashMap<>();
        if (xml.length == 0) {
            return fields;
        }
        XMLStreamReader r = XML.createXMLStreamReader(new ByteArrayInputStream(xml));
        try {
            int depth = 0;
            while (r.hasNext()) {
                int event = r.next();
                if (event == XMLStreamReader.START_ELEMENT) {
                    depth++;
                    if (depth == 1) {
                        fields.put(ROOT, r.getLocalName());
                    } else if (depth == 2) {
                        fields.put(r.getLocalName(), r.getElementText());
                        depth--;
                    }
                } else if (event == XMLStreamReader.END_ELEMENT) {
                    depth--;
                }
            }
        } finally {
            r.close();
        }
        return fields;
    }

    private static String header(SdkHttpResponse h, String name) {
        return h.firstMatchingHeader(name).orElse(null);
    }

    private static Long longHeader(SdkHttpResponse h, String name) {
        return h.firstMatchingHeader(name).map(Long::valueOf).orElse(null);
    }

    private static Instant lastModified(SdkHttpResponse h) {
        return h.firstMatchingHeader("Last-Modified").map(HttpDates::parse).orElse(null);
    }

    /** The {@code x-amz-meta-} headers by their names without the prefix, in lower case (as S3 keeps them). */
    private static Map<String, String> metadata(SdkHttpResponse h) {
        Map<String, String> m = new HashMap<>();
        for (Map.Entry<String, List<String>> e : h.headers().entrySet()) {
            String name = e.getKey().toLowerCase(Locale.ROOT);
            if (name.startsWith(META) && !e.getValue().isEmpty()) {
                m.put(name.substring(META.length()), e.getValue().getFirst());
            }
        }
        return m;
    }

    private static void closeQuietly(Optional<AbortableInputStream> body) {
        body.ifPresent(in -> {
            try {
                in.close();
            } catch (IOException e) {
                in.abort(); // the connection is not reused
            }
        });
    }
}
