package dev.gvshim.oci;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Reads and writes Jackson trees ({@link JsonNode}, from jackson-databind) with
 * jackson-core's streaming parser and generator.
 *
 * <p>Why not {@code ObjectMapper.readTree}: constructing the first ObjectMapper costs ~20 ms
 * of start-up (measured on this project's target machine with the AOT cache), a fifth of
 * runsc's own start time, on every `gvshim run`. The tree itself is what keeps config.json
 * lossless: unknown fields, their order, explicit nulls and number forms all survive
 * read-modify-write. JsonTreeTest checks both directions against ObjectMapper.
 */
public final class JsonTree {
    private static final JsonFactory FACTORY = JsonFactory.builder().build();
    private static final JsonNodeFactory NODES = new JsonNodeFactory(true); // exact: 1.10 stays 1.10

    private JsonTree() {
    }

    public static JsonNodeFactory nodes() {
        return NODES;
    }

    /**
     * Jackson's message without its source descriptions: "expected close marker for Object
     * (start marker at [Source: REDACTED (...); line: 1, column: 36])" becomes "... (start
     * marker at line 1, column 36)"; the caller adds where the error is.
     */
    public static String plainMessage(JsonProcessingException e) {
        String m = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
        m = m.replaceAll("\\[Source: [^\\]]*?; line: (\\d+), column: (\\d+)\\]", "line $1, column $2");
        return m.replaceAll("\\s+", " ").strip();
    }

    /** Parses one JSON document; trailing content is an error. */
    public static JsonNode read(byte[] json) throws JsonProcessingException {
        try (JsonParser p = FACTORY.createParser(json)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                throw new com.fasterxml.jackson.core.JsonParseException(p, "empty document");
            }
            JsonNode node = value(p);
            if (p.nextToken() != null) {
                throw new com.fasterxml.jackson.core.JsonParseException(p, "unexpected content after the document");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw e;
        } catch (IOException e) {
            throw new UncheckedIOException(e); // parsing a byte array performs no I/O
        }
    }

    private static JsonNode value(JsonParser p) throws IOException {
        switch (p.currentToken()) {
            case START_OBJECT -> {
                ObjectNode o = NODES.objectNode();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    o.replace(name, value(p));
                }
                return o;
            }
            case START_ARRAY -> {
                ArrayNode a = NODES.arrayNode();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    a.add(value(p));
                }
                return a;
            }
            case VALUE_STRING -> {
                return NODES.textNode(p.getText());
            }
            case VALUE_NUMBER_INT -> {
                return switch (p.getNumberType()) {
                    case INT -> NODES.numberNode(p.getIntValue());
                    case LONG -> NODES.numberNode(p.getLongValue());
                    default -> NODES.numberNode(p.getBigIntegerValue());
                };
            }
            case VALUE_NUMBER_FLOAT -> {
                return NODES.numberNode(p.getDecimalValue());
            }
            case VALUE_TRUE -> {
                return NODES.booleanNode(true);
            }
            case VALUE_FALSE -> {
                return NODES.booleanNode(false);
            }
            case VALUE_NULL -> {
                return NODES.nullNode();
            }
            default -> throw new com.fasterxml.jackson.core.JsonParseException(p, "unexpected token " + p.currentToken());
        }
    }

    /** Serialises with tab indentation, as `runc spec` does (Go's json.MarshalIndent with "\t"). */
    public static byte[] write(JsonNode node) {
        return write(node, "\t");
    }

    /** Serialises with {@code indent} per level, {@code "key": value}, and a final newline. */
    public static byte[] write(JsonNode node, String indent) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            DefaultPrettyPrinter pp = new DefaultPrettyPrinter()
                    .withObjectIndenter(new DefaultIndenter(indent, "\n"))
                    .withArrayIndenter(new DefaultIndenter(indent, "\n"))
                    .withSeparators(DefaultPrettyPrinter.DEFAULT_SEPARATORS
                            .withObjectFieldValueSpacing(com.fasterxml.jackson.core.util.Separators.Spacing.AFTER));
            g.setPrettyPrinter(pp);
            write(g, node);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in-memory
        }
        out.write('\n');
        return out.toByteArray();
    }

    /** One line, no spaces: for log lines and `--json` outputs. */
    public static String compact(JsonNode node) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            write(g, node);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static void write(JsonGenerator g, JsonNode n) throws IOException {
        switch (n.getNodeType()) {
            case OBJECT -> {
                g.writeStartObject();
                for (Map.Entry<String, JsonNode> e : n.properties()) {
                    g.writeFieldName(e.getKey());
                    write(g, e.getValue());
                }
                g.writeEndObject();
            }
            case ARRAY -> {
                g.writeStartArray();
                for (JsonNode v : n) {
                    write(g, v);
                }
                g.writeEndArray();
            }
            case STRING -> g.writeString(n.textValue());
            case NUMBER -> {
                if (n.isBigDecimal() || n.isFloatingPointNumber()) {
                    g.writeNumber(n.decimalValue());
                } else if (n.isBigInteger()) {
                    g.writeNumber(n.bigIntegerValue());
                } else {
                    g.writeNumber(n.longValue());
                }
            }
            case BOOLEAN -> g.writeBoolean(n.booleanValue());
            case NULL -> g.writeNull();
            default -> throw new IllegalArgumentException("cannot write a " + n.getNodeType() + " node");
        }
    }
}
