#include "cli/output/format.h"

#include <cctype>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "yaml-cpp/yaml.h"

namespace sockudo::cli::output {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using OrderedJson = nlohmann::ordered_json;

// `all_fields`: zero values too (not for the well-known types: protobuf 3.21 then prints a stray
// "values": [] into the objects of a ListValue).
std::string CompactJson(const Message& message, bool all_fields = true) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = all_fields;
  options.preserve_proto_field_names = false;
  std::string text;
  auto status = google::protobuf::util::MessageToJsonString(message, &text, options);
  if (!status.ok()) return "{}";  // only for messages that cannot be printed at all (none of ours)
  return text;
}

// Strings a YAML reader would take for a number, a boolean, null, a timestamp or syntax.
bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  const std::string lower = absl::AsciiStrToLower(s);
  static const char* kWords[] = {"true", "false", "yes", "no",   "on",    "off",   "y",
                                 "n",    "null",  "~",   ".inf", "-.inf", "+.inf", ".nan"};
  for (const char* word : kWords) {
    if (lower == word) return true;
  }
  const unsigned char first = static_cast<unsigned char>(s.front());
  if (std::isdigit(first) || ((first == '-' || first == '+' || first == '.') && s.size() > 1 &&
                              std::isdigit(static_cast<unsigned char>(s[1])))) {
    return true;
  }
  if (std::isspace(first) || std::isspace(static_cast<unsigned char>(s.back()))) return true;
  if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(static_cast<char>(first)) !=
      std::string_view::npos) {
    return true;
  }
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos || s.back() == ':') {
    return true;
  }
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

void EmitString(YAML::Emitter& out, const std::string& s) {
  if (NeedsQuotes(s)) out << YAML::DoubleQuoted;
  out << s;
}

void EmitJson(YAML::Emitter& out, const OrderedJson& value) {
  switch (value.type()) {
    case OrderedJson::value_t::object:
      if (value.empty()) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key;
        EmitString(out, key);
        out << YAML::Value;
        EmitJson(out, item);
      }
      out << YAML::EndMap;
      break;
    case OrderedJson::value_t::array:
      if (value.empty()) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : value) EmitJson(out, item);
      out << YAML::EndSeq;
      break;
    case OrderedJson::value_t::string:
      EmitString(out, value.get<std::string>());
      break;
    case OrderedJson::value_t::boolean:
      out << (value.get<bool>() ? "true" : "false");
      break;
    case OrderedJson::value_t::number_integer:
      out << value.get<int64_t>();
      break;
    case OrderedJson::value_t::number_unsigned:
      out << value.get<uint64_t>();
      break;
    case OrderedJson::value_t::number_float:
      out << value.get<double>();
      break;
    default:
      out << YAML::Null;
      break;
  }
}

void EmitMessage(YAML::Emitter& out, const Message& message);

void EmitScalar(YAML::Emitter& out, const Message& message, const FieldDescriptor* field,
                int index) {
  const Reflection* r = message.GetReflection();
  const bool repeated = index >= 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      out << (repeated ? r->GetRepeatedInt32(message, field, index) : r->GetInt32(message, field));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      out << (repeated ? r->GetRepeatedInt64(message, field, index) : r->GetInt64(message, field));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      out << (repeated ? r->GetRepeatedUInt32(message, field, index)
                       : r->GetUInt32(message, field));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      out << (repeated ? r->GetRepeatedUInt64(message, field, index)
                       : r->GetUInt64(message, field));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      out << (repeated ? r->GetRepeatedDouble(message, field, index)
                       : r->GetDouble(message, field));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      out << (repeated ? r->GetRepeatedFloat(message, field, index) : r->GetFloat(message, field));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out << ((repeated ? r->GetRepeatedBool(message, field, index) : r->GetBool(message, field))
                  ? "true"
                  : "false");
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* value =
          repeated ? r->GetRepeatedEnum(message, field, index) : r->GetEnum(message, field);
      EmitString(out, value->name());
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING:
      EmitString(out, repeated ? r->GetRepeatedString(message, field, index)
                               : r->GetString(message, field));
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      EmitMessage(out, repeated ? r->GetRepeatedMessage(message, field, index)
                                : r->GetMessage(message, field));
      break;
  }
}

void EmitMessage(YAML::Emitter& out, const Message& message) {
  const auto* descriptor = message.GetDescriptor();
  const std::string& type = descriptor->full_name();
  // Well-known types print as their JSON mapping says: a Timestamp is an RFC 3339 string, a
  // Struct / Value / ListValue is plain data.
  if (descriptor->file()->name().rfind("google/protobuf/", 0) == 0 &&
      type != "google.protobuf.Empty") {
    EmitJson(out, OrderedJson::parse(CompactJson(message, /*all_fields=*/false), nullptr,
                                     /*allow_exceptions=*/false));
    return;
  }
  const Reflection* r = message.GetReflection();
  if (descriptor->field_count() == 0) out << YAML::Flow;  // Empty: "{}"
  out << YAML::BeginMap;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field->is_repeated()) {
      const int size = r->FieldSize(message, field);
      out << YAML::Key << field->json_name() << YAML::Value;
      if (size == 0) out << YAML::Flow;  // "key: []" rather than a block with nothing in it
      out << YAML::BeginSeq;
      for (int j = 0; j < size; ++j) EmitScalar(out, message, field, j);
      out << YAML::EndSeq;
      continue;
    }
    // Fields with presence (optional scalars, messages) only when set, as in the JSON.
    if (field->has_presence() && !r->HasField(message, field)) continue;
    out << YAML::Key << field->json_name() << YAML::Value;
    EmitScalar(out, message, field, -1);
  }
  out << YAML::EndMap;
}

std::string Finish(const YAML::Emitter& out) {
  std::string text = out.c_str();
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

}  // namespace

std::optional<Format> ParseFormat(std::string_view name) {
  if (name == "table") return Format::kTable;
  if (name == "wide") return Format::kWide;
  if (name == "json") return Format::kJson;
  if (name == "yaml") return Format::kYaml;
  return std::nullopt;
}

std::string ToJson(const Message& message) {
  auto value = OrderedJson::parse(CompactJson(message), nullptr, /*allow_exceptions=*/false);
  return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string ToJsonLine(const Message& message) { return CompactJson(message) + "\n"; }

std::string ToYaml(const Message& message) {
  YAML::Emitter out;
  out.SetDoublePrecision(15);
  EmitMessage(out, message);
  return Finish(out);
}

std::string JsonValueToJson(const nlohmann::json& value) {
  return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string JsonValueToYaml(const nlohmann::json& value) {
  YAML::Emitter out;
  out.SetDoublePrecision(15);
  EmitJson(out, OrderedJson::parse(
                    value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  return Finish(out);
}

}  // namespace sockudo::cli::output
