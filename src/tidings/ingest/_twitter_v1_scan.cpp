// The compiled fast path of the Twitter v1.1 JSONL reader (tidings/ingest/twitter_v1.py).
//
// Why it exists: the msgspec reader costs about 20 CPU-µs a tweet in Python, which caps ingest
// near 40k tweets/s on two cores. simdjson parses and fully validates a 2.2 KB tweet in about
// 1 µs; walking the few fields we keep costs about as much again. This scanner does exactly
// what the Python reader's decode-and-columns step does, for the blocks it can vouch for, and
// gives up on a whole block otherwise (a damaged line, a field of an unexpected type, a date
// that is not Twitter's format, a duplicated key, an id that is not a number ...). The Python
// reader then converts that block itself, with the messages and quarantine rows it always gave:
// giving up is always safe, so every rule here only needs to be right when it accepts.
//
// Output is plain byte buffers in Arrow's layout (offsets, data, validity bitmaps), which
// Python wraps with pyarrow.Array.from_buffers: no Arrow C++ library is linked. The GIL is
// released while a block is scanned, so the ingest pipeline runs on the other core meanwhile.

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;
using OS = std::optional<std::string_view>;

struct GiveUp {};  // thrown when the block must be converted by the Python reader

[[noreturn]] void give_up() { throw GiveUp{}; }

// ---- Arrow-layout column builders -------------------------------------------------------

struct Validity {
  std::vector<uint8_t> bits;
  size_t n = 0;
  size_t nulls = 0;
  void clear() {
    bits.clear();
    n = nulls = 0;
  }
  void push(bool valid) {
    if ((n & 7) == 0) bits.push_back(0);
    if (valid) bits.back() |= uint8_t(1u << (n & 7));
    else ++nulls;
    ++n;
  }
};

struct Strings {
  std::vector<int32_t> offsets{0};
  std::string data;
  Validity valid;
  void clear() {
    offsets.assign(1, 0);
    data.clear();
    valid.clear();
  }
  void add(std::string_view s) {
    data.append(s.data(), s.size());
    if (data.size() > INT32_MAX) give_up();
    offsets.push_back(int32_t(data.size()));
    valid.push(true);
  }
  void add(const OS &s) {
    if (s) add(*s);
    else null();
  }
  void null() {
    offsets.push_back(int32_t(data.size()));
    valid.push(false);
  }
};

struct Lists {
  std::vector<int32_t> offsets{0};
  Validity valid;
  Strings items;
  void clear() {
    offsets.assign(1, 0);
    valid.clear();
    items.clear();
  }
  void null() {
    offsets.push_back(offsets.back());
    valid.push(false);
  }
  void close() {  // the items added since the last close are one list
    offsets.push_back(int32_t(items.offsets.size() - 1));
    valid.push(true);
  }
};

template <typename T>
struct Numbers {
  std::vector<T> values;
  Validity valid;
  void clear() {
    values.clear();
    valid.clear();
  }
  void add(T v) {
    values.push_back(v);
    valid.push(true);
  }
  void null() {
    values.push_back(T{});
    valid.push(false);
  }
};

// ---- The fields the Python reader declares (its msgspec structs), type-checked the same way --

OS str_of(element v) {  // `str | None`
  if (v.is_null()) return std::nullopt;
  if (v.type() != element_type::STRING) give_up();
  return std::string_view(v);
}

struct Int {  // `int | None`; simdjson gives UINT64 only for values beyond int64
  bool set = false, big = false;
  int64_t value = 0;
  uint64_t big_value = 0;
  std::string text() const {  // what Python's str() gives
    return big ? std::to_string(big_value) : std::to_string(value);
  }
};

Int int_of(element v) {
  Int out;
  switch (v.type()) {
    case element_type::NULL_VALUE:
      return out;
    case element_type::INT64:
      out.value = int64_t(v);
      break;
    case element_type::UINT64:
      out.big = true;
      out.big_value = uint64_t(v);
      break;
    default:
      give_up();
  }
  out.set = true;
  return out;
}

std::optional<object> obj_of(element v) {  // a nested struct or None
  if (v.is_null()) return std::nullopt;
  if (v.type() != element_type::OBJECT) give_up();
  return object(v);
}

std::optional<array> arr_of(element v) {  // a tuple or None
  if (v.is_null()) return std::nullopt;
  if (v.type() != element_type::ARRAY) give_up();
  return array(v);
}

// A known key seen twice in one object: msgspec and simdjson might not keep the same one.
struct Once {
  uint64_t seen = 0;
  void operator()(int bit) {
    if (seen & (uint64_t(1) << bit)) give_up();
    seen |= uint64_t(1) << bit;
  }
};

// Element lists: each item is an object (null items are a type error in msgspec too) whose
// two candidate fields are strings or null.
struct Item {
  OS a, b;
};

std::optional<std::vector<Item>> items_of(element v, std::string_view ka, std::string_view kb) {
  auto arr = arr_of(v);
  if (!arr) return std::nullopt;
  std::vector<Item> out;
  for (element e : *arr) {
    if (e.type() != element_type::OBJECT) give_up();
    Item it;
    Once once;
    for (auto field : object(e)) {
      if (field.key == ka) {
        once(0);
        it.a = str_of(field.value);
      } else if (!kb.empty() && field.key == kb) {
        once(1);
        it.b = str_of(field.value);
      }
    }
    out.push_back(it);
  }
  return out;
}

std::optional<std::vector<std::string_view>> strs_of(element v) {  // tuple[str, ...] | None
  auto arr = arr_of(v);
  if (!arr) return std::nullopt;
  std::vector<std::string_view> out;
  for (element e : *arr) {
    if (e.type() != element_type::STRING) give_up();
    out.push_back(std::string_view(e));
  }
  return out;
}

using Items = std::optional<std::vector<Item>>;

struct Entities {
  Items hashtags, urls, mentions, media;
};

Entities entities_of(object o) {
  Entities e;
  Once once;
  for (auto f : o) {
    if (f.key == "hashtags") {
      once(0);
      e.hashtags = items_of(f.value, "text", "");
    } else if (f.key == "urls") {
      once(1);
      e.urls = items_of(f.value, "expanded_url", "url");
    } else if (f.key == "user_mentions") {
      once(2);
      e.mentions = items_of(f.value, "screen_name", "");
    } else if (f.key == "media") {
      once(3);
      e.media = items_of(f.value, "media_url_https", "media_url");
    }
  }
  return e;
}

std::optional<Entities> opt_entities(element v) {
  auto o = obj_of(v);
  if (!o) return std::nullopt;
  return entities_of(*o);
}

std::optional<Items> opt_extended_entities(element v) {  // extended_entities.media
  auto o = obj_of(v);
  if (!o) return std::nullopt;
  Items media;
  Once once;
  for (auto f : *o) {
    if (f.key == "media") {
      once(0);
      media = items_of(f.value, "media_url_https", "media_url");
    }
  }
  return media;
}

struct Extended {
  OS full_text;
  std::optional<Entities> entities;
  std::optional<Items> extended_entities;
};

struct User {
  OS id_str, screen_name, name, description, location, created_at;
  Int id, followers, friends, statuses;
  std::optional<std::vector<std::string_view>> withheld;
};

User user_of(object o) {
  User u;
  Once once;
  for (auto f : o) {
    std::string_view k = f.key;
    if (k == "id_str") once(0), u.id_str = str_of(f.value);
    else if (k == "id") once(1), u.id = int_of(f.value);
    else if (k == "screen_name") once(2), u.screen_name = str_of(f.value);
    else if (k == "name") once(3), u.name = str_of(f.value);
    else if (k == "description") once(4), u.description = str_of(f.value);
    else if (k == "location") once(5), u.location = str_of(f.value);
    else if (k == "created_at") once(6), u.created_at = str_of(f.value);
    else if (k == "followers_count") once(7), u.followers = int_of(f.value);
    else if (k == "friends_count") once(8), u.friends = int_of(f.value);
    else if (k == "statuses_count") once(9), u.statuses = int_of(f.value);
    else if (k == "withheld_in_countries") once(10), u.withheld = strs_of(f.value);
  }
  return u;
}

// Point.coordinates: tuple[float, ...] | None (msgspec's float takes JSON integers too).
std::optional<std::vector<double>> point_of(element v) {
  auto o = obj_of(v);
  if (!o) return std::nullopt;
  std::optional<std::vector<double>> out;
  Once once;
  for (auto f : *o) {
    if (f.key != "coordinates") continue;
    once(0);
    auto arr = arr_of(f.value);
    if (!arr) {
      out.reset();
      continue;
    }
    std::vector<double> xs;
    for (element e : *arr) {
      switch (e.type()) {
        case element_type::DOUBLE:
          xs.push_back(double(e));
          break;
        case element_type::INT64:
          xs.push_back(double(int64_t(e)));
          break;
        case element_type::UINT64:
          xs.push_back(double(uint64_t(e)));
          break;
        default:
          give_up();
      }
    }
    out = std::move(xs);
  }
  return out;
}

struct Status {
  bool present = false;
  OS id_str, created_at, timestamp_ms, text, full_text, source, lang, reply_str, quoted_str;
  Int id, reply_id, quoted_id;
  std::optional<Extended> extended;
  std::optional<User> user;
  std::optional<Entities> entities;
  std::optional<Items> extended_entities;
  std::optional<std::vector<double>> coordinates, geo;
  bool has_place = false;
  OS place_name;
  std::optional<std::vector<std::string_view>> withheld;
  element retweeted, quoted;  // the nested objects, parsed by the caller for their level
  bool has_retweeted = false, has_quoted = false;
};

// depth 0: a tweet (_Tweet: retweeted_status and quoted_status); 1: a retweeted original
// (_Retweeted: quoted_status only); 2: a quoted tweet (_Quoted: neither).
Status status_of(object o, int depth) {
  Status s;
  s.present = true;
  Once once;
  for (auto f : o) {
    std::string_view k = f.key;
    element v = f.value;
    switch (k.size()) {  // first by length: most of a tweet's keys are skipped here
      case 2:
        if (k == "id") once(0), s.id = int_of(v);
        break;
      case 3:
        if (k == "geo") {
          once(1);
          s.geo = point_of(v);
        }
        break;
      case 4:
        if (k == "text") once(2), s.text = str_of(v);
        else if (k == "lang") once(3), s.lang = str_of(v);
        else if (k == "user") {
          once(4);
          auto u = obj_of(v);
          if (u) s.user = user_of(*u);
        }
        break;
      case 5:
        if (k == "place") {
          once(5);
          auto p = obj_of(v);
          s.has_place = p.has_value();
          if (p) {
            Once inner;
            for (auto pf : *p)
              if (pf.key == "full_name") inner(0), s.place_name = str_of(pf.value);
          }
        }
        break;
      case 6:
        if (k == "id_str") once(6), s.id_str = str_of(v);
        else if (k == "source") once(7), s.source = str_of(v);
        break;
      case 8:
        if (k == "entities") once(8), s.entities = opt_entities(v);
        break;
      case 9:
        if (k == "full_text") once(9), s.full_text = str_of(v);
        break;
      case 10:
        if (k == "created_at") once(10), s.created_at = str_of(v);
        break;
      case 11:
        if (k == "coordinates") {
          once(11);
          s.coordinates = point_of(v);
        }
        break;
      case 12:
        if (k == "timestamp_ms") once(12), s.timestamp_ms = str_of(v);
        break;
      case 13:
        if (k == "quoted_status" && depth < 2) {
          once(13);
          s.has_quoted = obj_of(v).has_value();
          s.quoted = v;
        }
        break;
      case 14:
        if (k == "extended_tweet") {
          once(14);
          auto e = obj_of(v);
          if (e) {
            Extended x;
            Once inner;
            for (auto ef : *e) {
              if (ef.key == "full_text") inner(0), x.full_text = str_of(ef.value);
              else if (ef.key == "entities") inner(1), x.entities = opt_entities(ef.value);
              else if (ef.key == "extended_entities")
                inner(2), x.extended_entities = opt_extended_entities(ef.value);
            }
            s.extended = std::move(x);
          }
        }
        break;
      case 16:
        if (k == "quoted_status_id") once(15), s.quoted_id = int_of(v);
        else if (k == "retweeted_status" && depth == 0) {
          once(16);
          s.has_retweeted = obj_of(v).has_value();
          s.retweeted = v;
        }
        break;
      case 17:
        if (k == "extended_entities") once(17), s.extended_entities = opt_extended_entities(v);
        break;
      case 20:
        if (k == "quoted_status_id_str") once(18), s.quoted_str = str_of(v);
        break;
      case 21:
        if (k == "in_reply_to_status_id") once(19), s.reply_id = int_of(v);
        else if (k == "withheld_in_countries") once(20), s.withheld = strs_of(v);
        break;
      case 25:
        if (k == "in_reply_to_status_id_str") once(21), s.reply_str = str_of(v);
        break;
      default:
        break;
    }
  }
  return s;
}

// ---- What a status becomes (the Python reader's _content, _content_of, _point, _sid) ------

bool truthy(const OS &s) { return s && !s->empty(); }

OS first_truthy(std::initializer_list<const OS *> xs) {  // Python's `a or b or c`
  const OS *last = nullptr;
  for (const OS *x : xs) {
    if (truthy(*x)) return *x;
    last = x;
  }
  return last ? *last : std::nullopt;
}

std::optional<std::string> sid(const OS &value, const Int &number) {
  if (value) return std::string(*value);
  if (number.set) return number.text();
  return std::nullopt;
}

// A list column entry: None when the tuple is None or empty (Python's `[...] if u else None`).
// Each item is its one field (hashtags, mentions) or `a or b` (urls: expanded_url or url;
// media: media_url_https or media_url).
void put_items(Lists &col, const Items &items, bool either) {
  if (!items || items->empty()) {
    col.null();
    return;
  }
  for (const Item &it : *items) col.items.add(either ? first_truthy({&it.a, &it.b}) : it.a);
  col.close();
}

struct Content {
  OS text;
  const Items *urls = nullptr, *tags = nullptr, *names = nullptr, *media = nullptr;
};

Content content_of(const Status &t) {
  Content c;
  const std::optional<Entities> *ent;
  const std::optional<Items> *ext_media;
  if (!t.extended) {
    c.text = first_truthy({&t.full_text, &t.text});
    ent = &t.entities;
    ext_media = &t.extended_entities;
  } else {
    c.text = first_truthy({&t.extended->full_text, &t.full_text, &t.text});
    ent = t.extended->entities ? &t.extended->entities : &t.entities;
    ext_media = t.extended->extended_entities ? &t.extended->extended_entities
                                              : &t.extended_entities;
  }
  if (!*ent) return c;
  const Entities &e = **ent;
  c.urls = &e.urls;
  c.tags = &e.hashtags;
  c.names = &e.mentions;
  // extended_entities lists every photo; entities.media only the first.
  const Items *found = (*ext_media && **ext_media && !(**ext_media)->empty()) ? &**ext_media
                                                                               : &e.media;
  c.media = found;
  return c;
}

const Items kNone;

const Items &or_none(const Items *x) { return x ? *x : kNone; }

bool plain_id(const OS &s, uint64_t &out) {  // the Python reader's ^[0-9]{1,19}$
  if (!s || s->empty() || s->size() > 19) return false;
  uint64_t v = 0;
  for (char ch : *s) {
    if (ch < '0' || ch > '9') return false;
    v = v * 10 + uint64_t(ch - '0');
  }
  out = v;
  return true;
}

// Twitter's "Wed Jun 11 12:00:00 +0000 2014" as microseconds since the epoch; anything else
// (an ISO date some tool rewrote, a damaged one) is left to the Python reader.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

int digits(std::string_view s, size_t at, size_t n) {
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') give_up();
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

int64_t twitter_time(std::string_view s) {
  // 0123456789012345678901234567890
  // Wed Jun 11 12:00:00 +0000 2014
  if (s.size() != 30 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[13] != ':' ||
      s[16] != ':' || s[19] != ' ' || s[25] != ' ' || (s[20] != '+' && s[20] != '-'))
    give_up();
  static const char *kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static const char *kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  bool day_ok = false;
  for (const char *d : kDays) day_ok |= s.substr(0, 3) == d;
  if (!day_ok) give_up();
  unsigned month = 0;
  for (unsigned i = 0; i < 12; ++i)
    if (s.substr(4, 3) == kMonths[i]) month = i + 1;
  if (!month) give_up();
  const int day = digits(s, 8, 2), hour = digits(s, 11, 2), minute = digits(s, 14, 2);
  const int second = digits(s, 17, 2), oh = digits(s, 21, 2), om = digits(s, 23, 2);
  const int year = digits(s, 26, 4);
  static const int kLength[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day < 1 || day > kLength[month - 1] || (month == 2 && day == 29 && !leap) || hour > 23 ||
      minute > 59 || second > 59 || oh > 23 || om > 59)
    give_up();
  const int64_t offset = (s[20] == '-' ? -1 : 1) * int64_t(oh * 3600 + om * 60);
  const int64_t secs = days_from_civil(year, month, unsigned(day)) * 86400 + hour * 3600 +
                       minute * 60 + second - offset;
  return secs * 1000000;
}

// ---- One block ---------------------------------------------------------------------------

struct Posts {
  Numbers<int64_t> record;
  Numbers<uint64_t> number;  // the id as a number, 0 when it is not a plain one
  Strings post_id, account_id, account_name, text, lang, repost_of, reply_to, quote_of, source,
      place_name;
  Numbers<int64_t> created_at;
  Numbers<double> lat, lon;
  Lists urls, hashtags, mentions, media, withheld_in;
  Strings raw;  // the line of a tweet, without its line end; embedded tweets have none
  void clear() {
    for (auto *n : {&record, &created_at}) n->clear();
    number.clear();
    for (auto *x : {&post_id, &account_id, &account_name, &text, &lang, &repost_of, &reply_to,
                    &quote_of, &source, &place_name, &raw})
      x->clear();
    lat.clear();
    lon.clear();
    for (auto *l : {&urls, &hashtags, &mentions, &media, &withheld_in}) l->clear();
  }
};

struct Profiles {  // the author of a status as that status gives it
  Strings account_id, account_name, display_name, description, location, created;
  Numbers<int64_t> followers, following, statuses;
  Lists withheld_in;
  void clear() {
    for (auto *x : {&account_id, &account_name, &display_name, &description, &location, &created})
      x->clear();
    for (auto *n : {&followers, &following, &statuses}) n->clear();
    withheld_in.clear();
  }
};

struct Block {
  Posts tweets;    // one row per tweet (line)
  Posts embedded;  // its retweeted original, that one's quoted tweet, its own quoted tweet
  Profiles profiles;  // every status with a user, in that order within a line
  std::vector<std::pair<int64_t, std::pair<size_t, size_t>>> others;  // lines with no tweet
  void clear() {
    tweets.clear();
    embedded.clear();
    profiles.clear();
    others.clear();
  }
};

void put_int(Numbers<int64_t> &col, const Int &x) {
  if (!x.set) return col.null();
  if (x.big) give_up();  // beyond int64: Arrow would refuse it too
  col.add(x.value);
}

void put_strs(Lists &col, const std::optional<std::vector<std::string_view>> &xs) {
  if (!xs) return col.null();
  for (auto s : *xs) col.items.add(s);
  col.close();
}

void put_status(Posts &b, Profiles &p, const Status &t, const Status *rt, bool embedded,
                int64_t line) {
  b.record.add(line);
  uint64_t n = 0;
  const bool plain = plain_id(t.id_str, n);
  if (embedded && !plain) give_up();  // embedded copies are recognised by their number
  b.number.add(plain ? n : 0);
  auto pid = sid(t.id_str, t.id);
  if (pid) b.post_id.add(std::string_view(*pid));
  else b.post_id.null();
  if (t.user) {
    const User &u = *t.user;
    uint64_t un = 0;
    if (!plain_id(u.id_str, un)) give_up();  // profiles are keyed by a truthy id_str
    b.account_id.add(*u.id_str);
    b.account_name.add(u.screen_name);
    p.account_id.add(*u.id_str);
    p.account_name.add(u.screen_name);
    p.display_name.add(u.name);
    p.description.add(truthy(u.description) ? u.description : std::nullopt);
    p.location.add(truthy(u.location) ? u.location : std::nullopt);
    p.created.add(u.created_at);
    put_int(p.followers, u.followers);
    put_int(p.following, u.friends);
    put_int(p.statuses, u.statuses);
    put_strs(p.withheld_in, u.withheld);
  } else {
    b.account_id.null();
    b.account_name.null();
  }
  if (t.created_at) {
    b.created_at.add(twitter_time(*t.created_at));
  } else if (t.timestamp_ms && !t.timestamp_ms->empty()) {
    uint64_t ms = 0;
    if (t.timestamp_ms->size() > 15 || !plain_id(t.timestamp_ms, ms)) give_up();
    b.created_at.add(int64_t(ms) * 1000);
  } else {
    b.created_at.null();
  }
  b.lang.add(t.lang);
  if (truthy(t.reply_str)) b.reply_to.add(t.reply_str);
  else if (t.reply_id.set) b.reply_to.add(std::string_view(t.reply_id.text()));
  else b.reply_to.null();
  b.source.add(t.source);
  b.place_name.add(t.has_place ? t.place_name : std::nullopt);
  // coordinates is GeoJSON [lon, lat]; the deprecated geo is [lat, lon].
  if (t.coordinates && t.coordinates->size() == 2) {
    b.lat.add((*t.coordinates)[1]);
    b.lon.add((*t.coordinates)[0]);
  } else if (t.geo && t.geo->size() == 2) {
    b.lat.add((*t.geo)[0]);
    b.lon.add((*t.geo)[1]);
  } else {
    b.lat.null();
    b.lon.null();
  }
  put_strs(b.withheld_in, t.withheld);

  if (rt == nullptr) {
    Content c = content_of(t);
    b.text.add(c.text);
    put_items(b.urls, or_none(c.urls), true);
    put_items(b.hashtags, or_none(c.tags), false);
    put_items(b.mentions, or_none(c.names), false);
    put_items(b.media, or_none(c.media), true);
    b.repost_of.null();
    auto q = sid(t.quoted_str, t.quoted_id);
    if (q) b.quote_of.add(std::string_view(*q));
    else b.quote_of.null();
    return;
  }
  // A retweet: its own text and entities are cut at 140 characters; the original's are whole.
  Content c = content_of(*rt);
  OS author = rt->user ? rt->user->screen_name : std::nullopt;
  const Items &names = or_none(c.names);
  if (truthy(author) && c.text) {
    std::string text = "RT @";
    text.append(*author).append(": ").append(*c.text);
    b.text.add(std::string_view(text));
    b.mentions.items.add(*author);
    if (names)
      for (const Item &it : *names) b.mentions.items.add(it.a);
    b.mentions.close();
  } else {
    b.text.add(first_truthy({&t.full_text, &t.text}));
    put_items(b.mentions, names, false);
  }
  put_items(b.urls, or_none(c.urls), true);
  put_items(b.hashtags, or_none(c.tags), false);
  put_items(b.media, or_none(c.media), true);
  auto r = sid(rt->id_str, rt->id);
  if (r) b.repost_of.add(std::string_view(*r));
  else b.repost_of.null();
  b.quote_of.null();
}

bool blank(std::string_view line) {
  for (char ch : line)
    if (ch != ' ' && ch != '\t' && ch != '\r') return false;
  return true;
}

// Scans every line of `data`; throws GiveUp when a line needs the Python reader.
void scan(const char *data, size_t size, int64_t first, Block &b) {
  // Kept from block to block, like the parser: fresh buffers cost more in page faults than
  // the scan itself. A line is parsed where it lies when the block has simdjson's padding of
  // readable bytes after it (the next lines); only the last lines are copied to be padded.
  thread_local simdjson::dom::parser parser;
  thread_local std::string padded;
  const char *p = data;
  const char *end = data + size;
  int64_t line_no = first;
  while (p < end) {
    const char *nl = static_cast<const char *>(std::memchr(p, '\n', size_t(end - p)));
    const bool terminated = nl != nullptr;
    if (!nl) nl = end;
    ++line_no;
    size_t len = size_t(nl - p);
    if (terminated && len && p[len - 1] == '\r') --len;  // CRLF: the CR is the line end's
    std::string_view line(p, len);
    p = nl + 1;
    if (blank(line)) continue;
    if (static_cast<unsigned char>(line[0]) == 0xEF) give_up();  // a byte-order mark
    const char *json = line.data();
    if (size_t(end - json) < line.size() + simdjson::SIMDJSON_PADDING) {
      padded.assign(line.data(), line.size());
      padded.append(simdjson::SIMDJSON_PADDING, '\0');
      json = padded.data();
    }
    element doc;
    if (parser.parse(json, line.size(), false).get(doc)) give_up();
    if (doc.type() != element_type::OBJECT) give_up();
    Status t = status_of(object(doc), 0);
    Status rt, rtq, q;
    if (t.has_retweeted) {
      rt = status_of(object(t.retweeted), 1);
      if (rt.has_quoted) rtq = status_of(object(rt.quoted), 2);
    }
    if (t.has_quoted) q = status_of(object(t.quoted), 2);
    if (!t.user && !t.id_str && !t.id.set) {
      b.others.push_back({line_no, {size_t(line.data() - data), line.size()}});
      continue;
    }
    put_status(b.tweets, b.profiles, t, t.has_retweeted ? &rt : nullptr, false, line_no);
    b.tweets.raw.add(line);
    if (rt.present && rt.user) put_status(b.embedded, b.profiles, rt, nullptr, true, line_no);
    if (rtq.present && rtq.user) put_status(b.embedded, b.profiles, rtq, nullptr, true, line_no);
    if (q.present && q.user) put_status(b.embedded, b.profiles, q, nullptr, true, line_no);
  }
}

// ---- Python ----------------------------------------------------------------------------

PyObject *bytes_of(const void *p, size_t n) {
  return PyBytes_FromStringAndSize(static_cast<const char *>(p), Py_ssize_t(n));
}

PyObject *validity(const Validity &v) {
  if (v.nulls == 0) Py_RETURN_NONE;
  return bytes_of(v.bits.data(), v.bits.size());
}

PyObject *strings(const Strings &s) {  // (validity | None, offsets, data)
  return Py_BuildValue("(NNN)", validity(s.valid), bytes_of(s.offsets.data(), s.offsets.size() * 4),
                       bytes_of(s.data.data(), s.data.size()));
}

PyObject *lists(const Lists &l) {  // (validity | None, offsets, items)
  return Py_BuildValue("(NNN)", validity(l.valid), bytes_of(l.offsets.data(), l.offsets.size() * 4),
                       strings(l.items));
}

template <typename T>
PyObject *numbers(const Numbers<T> &n) {  // (validity | None, values)
  return Py_BuildValue("(NN)", validity(n.valid), bytes_of(n.values.data(), n.values.size() * sizeof(T)));
}

int put(PyObject *dict, const char *key, PyObject *value) {
  if (value == nullptr) return -1;
  int rc = PyDict_SetItemString(dict, key, value);
  Py_DECREF(value);
  return rc;
}

PyObject *posts(const Posts &b, bool with_raw) {
  PyObject *cols = PyDict_New();
  if (cols == nullptr) return nullptr;
  const bool ok =
      put(cols, "_record", numbers(b.record)) == 0 && put(cols, "number", numbers(b.number)) == 0 &&
      put(cols, "post_id", strings(b.post_id)) == 0 &&
      put(cols, "account_id", strings(b.account_id)) == 0 &&
      put(cols, "account_name", strings(b.account_name)) == 0 &&
      put(cols, "created_at", numbers(b.created_at)) == 0 &&
      put(cols, "text", strings(b.text)) == 0 && put(cols, "lang", strings(b.lang)) == 0 &&
      put(cols, "repost_of", strings(b.repost_of)) == 0 &&
      put(cols, "reply_to", strings(b.reply_to)) == 0 &&
      put(cols, "quote_of", strings(b.quote_of)) == 0 &&
      put(cols, "urls", lists(b.urls)) == 0 && put(cols, "hashtags", lists(b.hashtags)) == 0 &&
      put(cols, "mentions", lists(b.mentions)) == 0 && put(cols, "media", lists(b.media)) == 0 &&
      put(cols, "source", strings(b.source)) == 0 &&
      put(cols, "place_name", strings(b.place_name)) == 0 &&
      put(cols, "lat", numbers(b.lat)) == 0 && put(cols, "lon", numbers(b.lon)) == 0 &&
      put(cols, "withheld_in", lists(b.withheld_in)) == 0 &&
      (!with_raw || put(cols, "raw", strings(b.raw)) == 0);
  if (!ok) {
    Py_DECREF(cols);
    return nullptr;
  }
  return Py_BuildValue("(nN)", Py_ssize_t(b.record.values.size()), cols);
}

PyObject *profiles(const Profiles &p) {
  PyObject *cols = PyDict_New();
  if (cols == nullptr) return nullptr;
  const bool ok = put(cols, "account_id", strings(p.account_id)) == 0 &&
                  put(cols, "account_name", strings(p.account_name)) == 0 &&
                  put(cols, "display_name", strings(p.display_name)) == 0 &&
                  put(cols, "description", strings(p.description)) == 0 &&
                  put(cols, "location", strings(p.location)) == 0 &&
                  put(cols, "created", strings(p.created)) == 0 &&
                  put(cols, "followers", numbers(p.followers)) == 0 &&
                  put(cols, "following", numbers(p.following)) == 0 &&
                  put(cols, "statuses", numbers(p.statuses)) == 0 &&
                  put(cols, "withheld_in", lists(p.withheld_in)) == 0;
  if (!ok) {
    Py_DECREF(cols);
    return nullptr;
  }
  return Py_BuildValue("(nN)", Py_ssize_t(p.followers.values.size()), cols);
}

PyObject *result(const Block &b, const char *base) {
  PyObject *others = PyList_New(Py_ssize_t(b.others.size()));
  if (others == nullptr) return nullptr;
  for (size_t i = 0; i < b.others.size(); ++i) {
    auto [line, span] = b.others[i];
    PyObject *item = Py_BuildValue("(LN)", (long long)line, bytes_of(base + span.first, span.second));
    if (item == nullptr) {
      Py_DECREF(others);
      return nullptr;
    }
    PyList_SET_ITEM(others, Py_ssize_t(i), item);
  }
  return Py_BuildValue("(NNNN)", posts(b.tweets, true), posts(b.embedded, false),
                       profiles(b.profiles), others);
}

PyObject *py_scan(PyObject *, PyObject *args) {
  Py_buffer source;
  long long first;
  if (!PyArg_ParseTuple(args, "y*L", &source, &first)) return nullptr;
  const char *data = static_cast<const char *>(source.buf);
  const size_t size = size_t(source.len);
  thread_local Block block;  // its buffers are kept from block to block
  block.clear();
  bool gave_up = false;
  Py_BEGIN_ALLOW_THREADS;
  try {
    scan(data, size, first, block);
  } catch (const GiveUp &) {
    gave_up = true;
  } catch (const std::exception &) {  // bad_alloc, a simdjson access error: the slow path
    gave_up = true;
  }
  Py_END_ALLOW_THREADS;
  PyObject *out = gave_up ? Py_NewRef(Py_None) : result(block, data);
  PyBuffer_Release(&source);
  return out;
}

PyMethodDef kMethods[] = {
    {"scan", py_scan, METH_VARARGS,
     "scan(block, first_line) -> (tweets, embedded, profiles, not_tweets) | None\n\n"
     "Convert the JSON lines of `block` (numbered from first_line + 1) into column buffers;\n"
     "None when a line needs the Python reader."},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef kModule = {PyModuleDef_HEAD_INIT, "_twitter_v1_scan",
                       "Compiled fast path of the Twitter v1.1 JSONL reader.", -1, kMethods,
                       nullptr, nullptr, nullptr, nullptr};

}  // namespace

PyMODINIT_FUNC PyInit__twitter_v1_scan(void) { return PyModule_Create(&kModule); }
