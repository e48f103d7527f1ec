// The abbreviated ("corgi") form of an npm packument, made from the upstream's
// bytes with simdjson instead of JSON.parse and JSON.stringify: a cold install
// spent most of the node's CPU building full packuments as JS objects (and
// collecting them) only to keep a fraction of each. formats/npm/native-packument.ts
// is the JS side; formats/npm/abbreviate.ts is the rule this follows.
//
// abbreviate(bytes) returns [name, body, bases, dists] or undefined. undefined
// means "let the JS path decide": invalid JSON, a document the JS schema would
// refuse, or anything whose JS meaning this does not reproduce exactly (a
// repeated key, a key valibot drops, a tarball name that needs percent-decoding).
//   body   the abbreviated JSON, each tarball link missing its base URL
//   bases  the byte offsets in body where the base URL goes
//   dists  per version: id, dist.tarball, dist.integrity, dist.shasum (undefined when absent)
// abbreviateOffThread(bytes) is a promise of the same, worked out on libuv's
// thread pool; the bytes must not change until it settles.
#include <node_api.h>
#include <simdjson.h>

#include <atomic>
#include <charconv>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <vector>

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// formats/npm/abbreviate.ts VERSION_FIELDS
constexpr std::string_view KEPT[] = {
  "name", "version", "deprecated", "dependencies", "optionalDependencies", "devDependencies",
  "bundleDependencies", "bundledDependencies", "peerDependencies", "peerDependenciesMeta",
  "acceptDependencies", "bin", "directories", "dist", "engines", "cpu", "os", "libc",
  "_hasShrinkwrap", "hasInstallScript", "funding", "license"};

bool kept(std::string_view key) {
  for (auto field : KEPT) if (field == key) return true;
  return false;
}

// keys valibot's records and objects skip, so the JS path never shows them
bool dropped(std::string_view key) {
  return key == "__proto__" || key == "prototype" || key == "constructor";
}

struct Version {
  std::string_view id, tarball;
  const char *integrity = nullptr, *shasum = nullptr;
  size_t integrityLength = 0, shasumLength = 0;
};

class Abbreviator {
 public:
  explicit Abbreviator(std::string& buffer) : out(buffer) { out.clear(); }
  std::string& out;
  std::vector<uint32_t> bases;
  std::vector<Version> versions;
  std::string_view name;

  bool run(element root, size_t length) {
    object doc;
    if (root.get(doc)) return false;
    element distTags, versionsElement, modified, time;
    bool hasName = false, hasTags = false, hasVersions = false, hasModified = false, hasTime = false;
    std::unordered_set<std::string_view> seen;
    for (auto field : doc) {
      // a repeated top-level key: JSON.parse keeps the last, this would see both
      if (!seen.insert(field.key).second || dropped(field.key)) return false;
      if (field.key == "name") { if (field.value.get(name)) return false; hasName = true; }
      else if (field.key == "dist-tags") { distTags = field.value; hasTags = true; }
      else if (field.key == "versions") { versionsElement = field.value; hasVersions = true; }
      else if (field.key == "modified") { if (!field.value.is_string()) return false; modified = field.value; hasModified = true; }
      else if (field.key == "time") { if (!field.value.is_object()) return false; time = field.value; hasTime = true; }
    }
    if (!hasName) return false;

    out.reserve(length / 2);
    out += "{\"name\":";
    string(name);
    out += ",\"dist-tags\":";
    if (hasTags) {
      object tags;
      if (distTags.get(tags)) return false;
      for (auto tag : tags) if (dropped(tag.key) || !tag.value.is_string()) return false;
      value(distTags);
    } else {
      out += "{}";
    }
    // abbreviate.ts: the top-level `modified`, else `time.modified` (the last, as JSON.parse keeps it)
    if (!hasModified && hasTime) {
      for (auto entry : object(time)) if (entry.key == "modified") { modified = entry.value; hasModified = true; }
    }
    if (hasModified) {
      out += ",\"modified\":";
      value(modified);
    }
    out += ",\"versions\":{";
    if (hasVersions) {
      object all;
      if (versionsElement.get(all)) return false;
      // a repeated version: JSON.parse keeps the last in the first one's place, which a lookup by file would notice
      std::unordered_set<std::string_view> ids;
      ids.reserve(all.size());
      bool first = true;
      for (auto entry : all) {
        if (!ids.insert(entry.key).second || dropped(entry.key)) return false;
        if (!first) out += ',';
        first = false;
        if (!version(entry.key, entry.value)) return false;
      }
    }
    out += "}}";
    return true;
  }

 private:
  bool version(std::string_view id, element v) {
    // a repeated key in a version or its dist needs no check: the last one wins
    // here as in JSON.parse, and the copies written out are read the same way
    object fields;
    if (v.get(fields)) return false;
    Version found{id};
    element dist;
    bool hasVersion = false, hasDist = false, hasFlag = false, scripted = false;
    for (auto field : fields) {
      if (field.key == "version") hasVersion = field.value.is_string();
      else if (field.key == "name" && !field.value.is_string()) return false;
      else if (field.key == "dist") { dist = field.value; hasDist = true; }
      else if (field.key == "hasInstallScript") hasFlag = true;
      else if (field.key == "scripts") scripted = installs(field.value);
    }
    if (!hasVersion || !hasDist) return false;
    object distFields;
    if (dist.get(distFields)) return false;
    for (auto field : distFields) {
      if (field.key == "tarball") { if (field.value.get(found.tarball)) return false; }
      else if (field.key == "integrity" || field.key == "shasum") {
        std::string_view digest;
        if (field.value.get(digest)) return false;
        (field.key == "integrity" ? found.integrity : found.shasum) = digest.data();
        (field.key == "integrity" ? found.integrityLength : found.shasumLength) = digest.size();
      }
    }
    if (found.tarball.data() == nullptr) return false;
    std::string file;
    if (!encodedFile(found.tarball, file)) return false;

    string(id);
    out += ":{";
    bool first = true;
    for (auto field : fields) {
      if (!kept(field.key)) continue;
      if (!first) out += ',';
      first = false;
      string(field.key);
      out += ':';
      if (field.key != "dist") { value(field.value); continue; }
      out += '{';
      bool firstDist = true;
      for (auto d : distFields) {
        if (!firstDist) out += ',';
        firstDist = false;
        string(d.key);
        out += ':';
        if (d.key != "tarball") { value(d.value); continue; }
        // `${base}${name}/-/${encodeURIComponent(file)}`, the base added in JS
        out += '"';
        bases.push_back(static_cast<uint32_t>(out.size()));
        escaped(name);
        out += "/-/";
        out += file;
        out += '"';
      }
      out += '}';
    }
    // npm decides on install scripts from this flag alone in abbreviated metadata
    if (!hasFlag && scripted) out += first ? "\"hasInstallScript\":true" : ",\"hasInstallScript\":true";
    out += '}';
    versions.push_back(found);
    return true;
  }

  // abbreviate.ts hasInstallScript: a scripts object naming any install hook
  static bool installs(element scripts) {
    object hooks;
    if (scripts.get(hooks)) return false;
    for (auto hook : hooks) {
      if (hook.key == "preinstall" || hook.key == "install" || hook.key == "postinstall") return true;
    }
    return false;
  }

  // packument.ts tarballFile, then encodeURIComponent: only for names that need
  // no decoding (no '%', nothing beyond ASCII), where decoding changes nothing
  static bool encodedFile(std::string_view url, std::string& file) {
    size_t end = url.find_first_of("?#");
    std::string_view path = url.substr(0, end);
    std::string_view name = path.substr(path.rfind('/') + 1);  // npos + 1 == 0: the whole path
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned char c : name) {
      if (c == '%' || c >= 0x80) return false;
      bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (plain || (c != 0 && std::strchr("-_.!~*'()", c) != nullptr)) {
        file += static_cast<char>(c);
      } else {
        file += '%';
        file += hex[c >> 4];
        file += hex[c & 15];
      }
    }
    return true;
  }

  // a value as JSON, written straight into the output
  void value(element e) {
    switch (e.type()) {
      case element_type::OBJECT: {
        out += '{';
        bool first = true;
        for (auto field : object(e)) {
          if (!first) out += ',';
          first = false;
          string(field.key);
          out += ':';
          value(field.value);
        }
        out += '}';
        break;
      }
      case element_type::ARRAY: {
        out += '[';
        bool first = true;
        for (auto item : simdjson::dom::array(e)) {
          if (!first) out += ',';
          first = false;
          value(item);
        }
        out += ']';
        break;
      }
      case element_type::STRING: string(std::string_view(e)); break;
      case element_type::INT64: number(int64_t(e)); break;
      case element_type::UINT64: number(uint64_t(e)); break;
      case element_type::DOUBLE: number(double(e)); break;
      case element_type::BOOL: out += bool(e) ? "true" : "false"; break;
      case element_type::NULL_VALUE: out += "null"; break;
    }
  }

  template <typename T> void number(T n) {
    if constexpr (std::is_floating_point_v<T>) {
      if (n == 0) n = 0;  // JSON.stringify(-0) is "0"
    }
    char digits[32];
    auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;  // shortest round-trip form for doubles
    out.append(digits, end);
  }

  void string(std::string_view s) {
    out += '"';
    escaped(s);
    out += '"';
  }

  // JSON.stringify's escaping of valid UTF-8 (simdjson has checked it)
  void escaped(std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    for (char ch : s) {
      unsigned char c = static_cast<unsigned char>(ch);
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20) {
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 15];
          } else {
            out += ch;
          }
      }
    }
  }
};

// Up to this size a document reuses the thread's parser and output buffer, which
// then stay allocated: a few times the largest such document seen (RSS grew by
// ~35 MB for typescript's 10.5 MB packument).
constexpr size_t REUSED_PARSER_BYTES = 16 << 20;

napi_value undefinedValue(napi_env env) {
  napi_value result;
  napi_get_undefined(env, &result);
  return result;
}

napi_value stringValue(napi_env env, const char* data, size_t length) {
  napi_value result;
  if (data == nullptr) return undefinedValue(env);
  napi_create_string_utf8(env, data, length, &result);
  return result;
}

// The bytes of a Uint8Array argument, and whether simdjson's padding lies after
// them (src/store/padded-concat.ts): then they are parsed where they lie, not
// copied into a padded buffer first. False, with a TypeError thrown, for anything else.
bool bytesOf(napi_env env, napi_callback_info info, napi_value* value, const uint8_t** data, size_t* length, bool* padded) {
  size_t argc = 1;
  napi_get_cb_info(env, info, &argc, value, nullptr, nullptr);
  bool typed = false;
  napi_typedarray_type type;
  napi_value arraybuffer;
  void* start = nullptr;
  size_t offset = 0, room = 0;
  if (argc < 1 || napi_is_typedarray(env, *value, &typed) != napi_ok || !typed ||
      napi_get_typedarray_info(env, *value, &type, length, &start, &arraybuffer, &offset) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, nullptr, "abbreviate(bytes): bytes must be a Uint8Array");
    return false;
  }
  void* whole = nullptr;
  napi_get_arraybuffer_info(env, arraybuffer, &whole, &room);
  *data = static_cast<const uint8_t*>(start);
  *padded = offset + *length + simdjson::SIMDJSON_PADDING <= room;
  return true;
}

// [name, body, bases, dists] for JS, or undefined when the body is too large to hand over
napi_value resultOf(napi_env env, const Abbreviator& abbreviator) {
  if (abbreviator.out.size() > UINT32_MAX) return undefinedValue(env);
  napi_value result, body, bases, dists;
  void* copied;
  if (napi_create_buffer_copy(env, abbreviator.out.size(), abbreviator.out.data(), &copied, &body) != napi_ok) return undefinedValue(env);
  napi_create_array_with_length(env, 4, &result);
  napi_set_element(env, result, 0, stringValue(env, abbreviator.name.data(), abbreviator.name.size()));
  napi_set_element(env, result, 1, body);
  napi_create_array_with_length(env, abbreviator.bases.size(), &bases);
  for (uint32_t i = 0; i < abbreviator.bases.size(); i++) {
    napi_value base;
    napi_create_uint32(env, abbreviator.bases[i], &base);
    napi_set_element(env, bases, i, base);
  }
  napi_set_element(env, result, 2, bases);
  napi_create_array_with_length(env, abbreviator.versions.size() * 4, &dists);
  uint32_t at = 0;
  for (const auto& v : abbreviator.versions) {
    napi_set_element(env, dists, at++, stringValue(env, v.id.data(), v.id.size()));
    napi_set_element(env, dists, at++, stringValue(env, v.tarball.data(), v.tarball.size()));
    napi_set_element(env, dists, at++, stringValue(env, v.integrity, v.integrityLength));
    napi_set_element(env, dists, at++, stringValue(env, v.shasum, v.shasumLength));
  }
  napi_set_element(env, result, 3, dists);
  return result;
}

napi_value Abbreviate(napi_env env, napi_callback_info info) {
  napi_value bytes;
  const uint8_t* data;
  size_t length;
  bool padded;
  if (!bytesOf(env, info, &bytes, &data, &length, &padded)) return nullptr;

  // documents up to 16 MiB (all but a handful of packuments) reuse this thread's
  // parser, whose buffers a fresh one would fault in again each time; a larger one
  // gets its own, freed on return, so buffers several times its size are not kept
  thread_local simdjson::dom::parser reused;
  // sized once for the largest it takes, not grown (and faulted in afresh) by each new largest
  thread_local bool sized = reused.allocate(REUSED_PARSER_BYTES) == simdjson::SUCCESS;
  (void)sized;
  simdjson::dom::parser own;
  simdjson::dom::parser& parser = length <= REUSED_PARSER_BYTES ? reused : own;
  element root;
  if (parser.parse(data, length, !padded).get(root)) return undefinedValue(env);
  // the output's buffer too is kept for the next small document, not faulted in afresh
  thread_local std::string reusedOut;
  std::string ownOut;
  Abbreviator abbreviator(length <= REUSED_PARSER_BYTES ? reusedOut : ownOut);
  if (!abbreviator.run(root, length)) return undefinedValue(env);
  return resultOf(env, abbreviator);
}

// Off the event loop, documents up to 16 MiB share one parser and output buffer,
// kept like the main thread's (a fresh parser took typescript's packument 120 ms
// instead of 15, faulting its buffers in). The pool thread that finds them free
// holds them until its result is handed to JS; one that finds them taken, or a
// larger document, uses its own.
simdjson::dom::parser sharedParser;
std::string sharedOut;
std::atomic<bool> sharedBusy{false};

// One abbreviateOffThread call. The bytes are held by a reference until it
// settles; the name, ids and digests in `abbreviator` point into its parser.
struct OffThread {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  napi_ref bytes = nullptr;
  const uint8_t* data = nullptr;
  size_t length = 0;
  bool padded = false;
  bool shared = false;
  simdjson::dom::parser own;
  std::string ownOut;
  std::optional<Abbreviator> abbreviator;
  bool abbreviated = false;
};

void AbbreviateOnPool(napi_env, void* data) {
  auto* job = static_cast<OffThread*>(data);
  job->shared = job->length <= REUSED_PARSER_BYTES && !sharedBusy.exchange(true, std::memory_order_acquire);
  if (job->shared) {
    static bool sized = sharedParser.allocate(REUSED_PARSER_BYTES) == simdjson::SUCCESS;
    (void)sized;
  }
  simdjson::dom::parser& parser = job->shared ? sharedParser : job->own;
  job->abbreviator.emplace(job->shared ? sharedOut : job->ownOut);
  element root;
  job->abbreviated = !parser.parse(job->data, job->length, !job->padded).get(root) && job->abbreviator->run(root, job->length);
}

void Settle(napi_env env, napi_status status, void* data) {
  std::unique_ptr<OffThread> job(static_cast<OffThread*>(data));
  napi_resolve_deferred(env, job->deferred, status == napi_ok && job->abbreviated ? resultOf(env, *job->abbreviator) : undefinedValue(env));
  if (job->shared) sharedBusy.store(false, std::memory_order_release);
  napi_delete_reference(env, job->bytes);
  napi_delete_async_work(env, job->work);
}

// abbreviate(bytes) on libuv's thread pool: a promise of the same answer, while
// the event loop goes on serving (a 10 MB packument takes it ~40 ms)
napi_value AbbreviateOffThread(napi_env env, napi_callback_info info) {
  auto job = std::make_unique<OffThread>();
  napi_value bytes, promise, name;
  if (!bytesOf(env, info, &bytes, &job->data, &job->length, &job->padded)) return nullptr;
  napi_create_string_utf8(env, "dpm:abbreviate", NAPI_AUTO_LENGTH, &name);
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_reference(env, bytes, 1, &job->bytes) != napi_ok ||
      napi_create_async_work(env, nullptr, name, AbbreviateOnPool, Settle, job.get(), &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    if (job->bytes != nullptr) napi_delete_reference(env, job->bytes);
    if (job->work != nullptr) napi_delete_async_work(env, job->work);
    napi_throw_error(env, nullptr, "abbreviateOffThread: could not queue the work");
    return nullptr;
  }
  job.release();  // Settle owns it now
  return promise;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "abbreviate", NAPI_AUTO_LENGTH, Abbreviate, nullptr, &fn);
  napi_set_named_property(env, exports, "abbreviate", fn);
  napi_create_function(env, "abbreviateOffThread", NAPI_AUTO_LENGTH, AbbreviateOffThread, nullptr, &fn);
  napi_set_named_property(env, exports, "abbreviateOffThread", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
