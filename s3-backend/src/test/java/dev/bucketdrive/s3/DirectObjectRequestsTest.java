package dev.bucketdrive.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.bucketdrive.core.store.StoreException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The direct multipart requests against a server that answers what the test says, for the answers
 * S3Proxy never gives: a 200 whose body is an error, or that is not the expected document.
 */
class DirectObjectRequestsTest {

    private HttpServer server;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private volatile String answer = "";
    private final List<String> expects = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws IOException {
        System.setProperty("aws.accessKeyId", "test");
        System.setProperty("aws.secretAccessKey", "test-secret");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI() + " " + body);
            expects.add(String.valueOf(exchange.getRequestHeaders().getFirst("Expect")));
            byte[] out = answer.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, out.length == 0 ? -1 : out.length);
            exchange.getResponseBody().write(out);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private S3Clients.Clients clients() {
        return S3Clients.build(S3Options.builder("b").region("us-east-1").pathStyle(true)
                .endpoint(URI.create("http://127.0.0.1:" + server.getAddress().getPort())).build());
    }

    /** Small bodies go at once; big ones wait for the server's go-ahead, which may refuse them first. */
    @Test
    void onlyBigBodiesWaitForTheServersGoAhead() {
        int big = (int) DirectObjectRequests.EXPECT_CONTINUE_FROM;
        try (S3Clients.Clients c = clients()) {
            c.direct().putObject("small", RequestBody.fromBytes(new byte[big - 1]), Map.of(), null, Map.of());
            c.direct().putObject("big", RequestBody.fromBytes(new byte[big]), Map.of(), null, Map.of());
            c.direct().uploadPart("big", "u", 1, RequestBody.fromBytes(new byte[10]));
            c.direct().uploadPart("big", "u", 2, RequestBody.fromBytes(new byte[big]));
        }
        assertThat(requests).extracting(r -> r.substring(0, r.indexOf(' ', 4))).containsExactly(
                "PUT /b/small", "PUT /b/big", "PUT /b/big?partNumber=1&uploadId=u", "PUT /b/big?partNumber=2&uploadId=u");
        assertThat(expects).containsExactly("null", "100-continue", "null", "100-continue");
    }

    @Test
    void createAndCompleteSendTheirQueryAndReadTheirAnswer() {
        try (S3Clients.Clients c = clients()) {
            answer = "<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
                    + "<UploadId>up&amp;1</UploadId></InitiateMultipartUploadResult>";
            assertThat(c.direct().createMultipartUpload("dir/k", Map.of("mode", "420"), null)).isEqualTo("up&1");

            answer = "<CompleteMultipartUploadResult><Location>x</Location><ETag>\"abc-2\"</ETag>"
                    + "</CompleteMultipartUploadResult>";
            assertThat(c.direct().completeMultipartUpload("dir/k", "up&1",
                    List.of(Map.entry(1, "\"e1\""), Map.entry(2, "\"e2\"")), Map.of())).isEqualTo("\"abc-2\"");
        }
        assertThat(requests.get(0)).startsWith("POST /b/dir/k?uploads");
        assertThat(requests.get(1)).startsWith("POST /b/dir/k?uploadId=up%261 ")
                .contains("<Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag></Part>"
                        + "<Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag></Part>");
    }

    @Test
    void aCompletionThatFailsAfterItsStatusLineIsAServerErrorAndRetried() {
        answer = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n<Error><Code>InternalError</Code>"
                + "<Message>We encountered an internal error. Please try again.</Message></Error>";
        try (S3Clients.Clients c = clients()) {
            assertThatThrownBy(() -> c.direct().completeMultipartUpload("k", "u", List.of(Map.entry(1, "\"e\"")),
                    Map.of()))
                    .isInstanceOfSatisfying(S3Exception.class, e -> {
                        assertThat(e.statusCode()).isEqualTo(500);
                        assertThat(e.awsErrorDetails().errorCode()).isEqualTo("InternalError");
                        assertThat(S3Errors.translate("CompleteMultipartUpload", "k", e).kind())
                                .isEqualTo(StoreException.Kind.TRANSIENT);
                    });

            answer = "<SomethingElse/>";
            assertThatThrownBy(() -> c.direct().completeMultipartUpload("k", "u", List.of(Map.entry(1, "\"e\"")),
                    Map.of()))
                    .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(S3Errors.translate("x", "k", e).kind())
                            .isEqualTo(StoreException.Kind.TRANSIENT));
        }
    }
}
