#include "proxy/rules_state.h"

#include "rules/loader.h"

namespace pgshim::proxy {

std::vector<std::string> RulesState::reload() {
  const Stamp before = stamp();
  auto loaded = rules::load_rules_dir(dir_);
  std::vector<std::string> errors;
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors()) errors.push_back(rules::format_error(e));
    std::lock_guard lock(mutex_);
    loaded_stamp_ = before;  // do not retry the same broken files every second
    last_errors_ = errors;
    return errors;
  }
  auto next = std::make_shared<RulesSnapshot>();
  next->rules = std::move(loaded.rules());
  if (!next->rules.migrations.empty()) {
    auto created = rules::Rewriter::create(next->rules);
    if (auto* error = std::get_if<std::string>(&created)) {
      errors.push_back(dir_ + ": " + *error);
      std::lock_guard lock(mutex_);
      loaded_stamp_ = before;
      last_errors_ = errors;
      return errors;
    }
    next->rewriter = std::get<std::shared_ptr<const rules::Rewriter>>(created);
  }
  std::lock_guard lock(mutex_);
  next->version = snapshot_->version + 1;
  version_.store(next->version, std::memory_order_release);
  snapshot_ = std::move(next);
  schemas_.clear();
  loaded_stamp_ = before;
  last_errors_.clear();
  return errors;
}

bool RulesState::directory_changed() const {
  const Stamp now = stamp();
  std::lock_guard lock(mutex_);
  return now != loaded_stamp_;
}

RulesState::Stamp RulesState::stamp() const {
  Stamp result;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir_, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::error_code time_ec;
    result[it->path()] = it->last_write_time(time_ec);
  }
  return result;
}

std::shared_ptr<const RulesSnapshot> RulesState::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

std::shared_ptr<const rules::StaticSchemaCache> RulesState::schema(const std::string& database) const {
  std::lock_guard lock(mutex_);
  const auto it = schemas_.find(database);
  return it == schemas_.end() ? nullptr : it->second;
}

void RulesState::set_schema(const std::string& database,
                            std::shared_ptr<const rules::StaticSchemaCache> schema) {
  std::lock_guard lock(mutex_);
  schemas_[database] = std::move(schema);
}

void RulesState::mark_schema_stale(const std::string& database) {
  std::lock_guard lock(mutex_);
  schemas_.erase(database);
}

std::map<std::string, std::shared_ptr<const rules::StaticSchemaCache>> RulesState::schemas() const {
  std::lock_guard lock(mutex_);
  return schemas_;
}

std::vector<std::string> RulesState::last_errors() const {
  std::lock_guard lock(mutex_);
  return last_errors_;
}

}  // namespace pgshim::proxy
