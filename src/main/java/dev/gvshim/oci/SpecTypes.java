package dev.gvshim.oci;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JSON types of config.json's fields, as the runtime-spec's Go structs declare them
 * (opencontainers/runtime-spec specs-go/config.go, 1.1): runsc reads the spec with Go's
 * encoding/json, which refuses the whole document at the first value of another type
 * ("json: cannot unmarshal number into Go struct field Process.process.args of type string",
 * followed by the whole spec). gvshim checks first, so that the message names the field and
 * the type it must have. null is accepted everywhere, as Go accepts it; fields the structs do
 * not have are not checked (Go ignores them too). The types are in {@link SpecSchema}.
 */
public final class SpecTypes {
    private SpecTypes() {
    }

    /** A field of the wrong type: its path ({@code process.args[0]}) and the one-line message. */
    public record Problem(String path, String message) {
    }

    private static final BigInteger U16 = BigInteger.valueOf(65535);
    private static final BigInteger U32 = BigInteger.valueOf(4294967295L);
    private static final BigInteger U64 = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
    private static final BigInteger I32_MIN = BigInteger.valueOf(Integer.MIN_VALUE);
    private static final BigInteger I32_MAX = BigInteger.valueOf(Integer.MAX_VALUE);
    private static final BigInteger I64_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger I64_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    /** Every field of {@code spec} whose value Go's encoding/json would refuse, in document order. */
    public static List<Problem> problems(JsonNode spec) {
        List<Problem> out = new ArrayList<>();
        if (spec != null && spec.isObject()) {
            fields(spec, "", "", out);
        }
        return out;
    }

    private static void fields(JsonNode object, String schemaPrefix, String pathPrefix, List<Problem> out) {
        for (Map.Entry<String, JsonNode> e : object.properties()) {
            String schema = schemaPrefix + e.getKey();
            String type = SpecSchema.type(schema);
            if (type == null) {
                type = SpecSchema.type(schemaPrefix + "*");
                schema = schemaPrefix + "*";
            }
            if (type != null) {
                check(e.getValue(), type, schema, pathPrefix + e.getKey(), out);
            }
        }
    }

    private static void check(JsonNode v, String type, String schema, String path, List<Problem> out) {
        if (v.isNull()) {
            return;
        }
        String expected = switch (type) {
            case "string" -> v.isTextual() ? null : "a string";
            case "bool" -> v.isBoolean() ? null : "true or false";
            case "object" -> v.isObject() ? null : SpecSchema.has(schema + ".*") ? "an object of " + plural(schema + ".*")
                    : "an object";
            case "array" -> v.isArray() ? null : "an array of " + plural(schema + "[]");
            default -> integer(v, type);
        };
        if (expected != null) {
            out.add(new Problem(path, "\"" + path + "\" must be " + expected + ", not " + describe(v)));
            return;
        }
        if (v.isObject()) {
            fields(v, schema + ".", path + ".", out);
        } else if (v.isArray()) {
            String element = SpecSchema.type(schema + "[]");
            for (int i = 0; i < v.size() && element != null; i++) {
                check(v.get(i), element, schema + "[]", path + "[" + i + "]", out);
            }
        }
    }

    /** Null if {@code v} is an integer Go can store in {@code type}, else what it must be. */
    private static String integer(JsonNode v, String type) {
        BigInteger min;
        BigInteger max;
        switch (type) {
            case "uint16" -> {
                min = BigInteger.ZERO;
                max = U16;
            }
            case "uint32" -> {
                min = BigInteger.ZERO;
                max = U32;
            }
            case "uint", "uint64" -> {
                min = BigInteger.ZERO;
                max = U64;
            }
            case "int32" -> {
                min = I32_MIN;
                max = I32_MAX;
            }
            default -> { // int, int64: Go's int is 64 bits on every platform runsc runs on
                min = I64_MIN;
                max = I64_MAX;
            }
        }
        String what = min.signum() == 0 ? "an integer from 0 to " + max : "an integer";
        if (!v.isIntegralNumber()) {
            return what; // Go refuses 1.5, 1e3 and "1" for an integer field
        }
        BigInteger n = v.bigIntegerValue();
        return n.compareTo(min) >= 0 && n.compareTo(max) <= 0 ? null : what;
    }

    private static String plural(String elementSchema) {
        String t = SpecSchema.type(elementSchema);
        if (t == null) {
            return "values";
        }
        return switch (t) {
            case "string" -> "strings";
            case "object" -> "objects";
            case "array" -> "arrays";
            case "bool" -> "booleans";
            default -> "integers";
        };
    }

    /** What a value is, for "not ...": a number shows itself (-1, 1.5), other kinds their kind. */
    static String describe(JsonNode v) {
        if (v.isNumber()) {
            String s = v.asText();
            return s.length() <= 24 ? "the number " + s : "a number";
        }
        return switch (v.getNodeType()) {
            case STRING -> "a string";
            case BOOLEAN -> v.booleanValue() ? "true" : "false";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            default -> v.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    private static final Pattern GO_TYPE_ERROR = Pattern.compile(
            "cannot unmarshal (\\w+)(?: (\\S+))? into Go struct field \\w+\\.([\\w.]+) of type (\\S+)");

    /**
     * Go's "json: cannot unmarshal number into Go struct field Process.process.args of type
     * string" as gvshim's own message ({@code "process.args" must be a string, not a number}),
     * for a field this schema does not know; null if {@code goError} is not such a message.
     */
    public static String fromGoError(String goError) {
        Matcher m = GO_TYPE_ERROR.matcher(goError == null ? "" : goError);
        if (!m.find()) {
            return null;
        }
        String found = m.group(2) != null && m.group(1).equals("number") ? m.group(2) : switch (m.group(1)) {
            case "array", "object" -> "an " + m.group(1);
            case "bool" -> "a boolean";
            default -> "a " + m.group(1);
        };
        String go = m.group(4);
        String expected = go.startsWith("[]") ? "an array" : go.startsWith("map[") ? "an object"
                : go.equals("string") ? "a string" : go.equals("bool") ? "true or false"
                : go.matches("u?int\\d*") ? (go.startsWith("u") ? "a non-negative integer" : "an integer")
                : go.startsWith("float") ? "a number" : "an object";
        return "\"" + m.group(3) + "\" must be " + expected + ", not " + found;
    }
}
