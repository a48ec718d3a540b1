#include "base/wjson.h"

json_t *
wjson_parse_object(const char *text, size_t len, struct werr *err)
{
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);

    if (!j) {
        werr_set(err, WERR_INVALID, "invalid JSON at line %d column %d: %s",
                 je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        werr_set(err, WERR_INVALID, "expected a JSON object");
        return NULL;
    }
    return j;
}

int
wjson_str(json_t *obj, const char *key, bool required, const char *def,
          const char **out, struct werr *err)
{
    json_t *v = json_object_get(obj, key);

    if (!v || json_is_null(v)) {
        if (required)
            return werr_set(err, WERR_INVALID, "missing member '%s'", key);
        *out = def;
        return 0;
    }
    if (!json_is_string(v))
        return werr_set(err, WERR_INVALID, "member '%s' must be a string",
                        key);
    *out = json_string_value(v);
    return 0;
}

int
wjson_int(json_t *obj, const char *key, bool required, int64_t def,
          int64_t min, int64_t max, int64_t *out, struct werr *err)
{
    json_t *v = json_object_get(obj, key);
    int64_t n;

    if (!v || json_is_null(v)) {
        if (required)
            return werr_set(err, WERR_INVALID, "missing member '%s'", key);
        *out = def;
        return 0;
    }
    if (!json_is_integer(v))
        return werr_set(err, WERR_INVALID, "member '%s' must be an integer",
                        key);
    n = json_integer_value(v);
    if (n < min || n > max)
        return werr_set(err, WERR_INVALID,
                        "member '%s' must be between %lld and %lld", key,
                        (long long)min, (long long)max);
    *out = n;
    return 0;
}

int
wjson_bool(json_t *obj, const char *key, bool def, bool *out,
           struct werr *err)
{
    json_t *v = json_object_get(obj, key);

    if (!v || json_is_null(v)) {
        *out = def;
        return 0;
    }
    if (!json_is_boolean(v))
        return werr_set(err, WERR_INVALID, "member '%s' must be true or false",
                        key);
    *out = json_is_true(v);
    return 0;
}

json_t *
wjson_error(const struct werr *e)
{
    return json_pack("{s:{s:s,s:s}}", "error", "code",
                     werr_code_name(e->code), "message", e->msg);
}

int
wjson_error_read(json_t *body, int http_status, struct werr *e)
{
    json_t *er = json_object_get(body, "error");
    const char *code = json_string_value(json_object_get(er, "code"));
    const char *msg = json_string_value(json_object_get(er, "message"));

    if (code && msg)
        return werr_set(e, werr_code_from_name(code), "%s", msg);
    return werr_set(e, werr_code_from_http(http_status), "HTTP status %d",
                    http_status);
}
