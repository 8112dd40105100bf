#include "proxy/prepared_statements.h"

#include <algorithm>

namespace pgshim::proxy {
namespace {

// The command tag of a CommandComplete body ("PREPARE", "DEALLOCATE ALL", ...).
std::string_view command_tag(std::string_view body) { return body.substr(0, body.find('\0')); }

}  // namespace

PreparedStatement* PreparedStatements::find(std::string_view name) {
  const auto it = statements_.find(std::string(name));
  return it == statements_.end() ? nullptr : &it->second;
}

bool PreparedStatements::any_stale(PrepareStamp now) {
  if (none_stale_ == now) return false;
  for (const auto& [name, s] : statements_) {
    if (stale(s, now)) return true;
  }
  none_stale_ = now;
  return false;
}

void PreparedStatements::prepare_again_later(PreparedStatement& s) {
  s.stamp.rules_version = kPrepareAgain;
  none_stale_.reset();
}

std::uint64_t PreparedStatements::put(std::string_view name, PreparedStatement statement) {
  statement.serial = next_serial_++;
  PreparedStatement& slot = statements_[std::string(name)];
  slot = std::move(statement);
  none_stale_.reset();
  return slot.serial;
}

PreparedStatement* PreparedStatements::with_serial(const std::string& name, std::uint64_t serial) {
  const auto it = statements_.find(name);
  return it != statements_.end() && it->second.serial == serial ? &it->second : nullptr;
}

PreparedStatements::Expected& PreparedStatements::wait_for(char type, std::string_view tag, std::uint64_t sync_index,
                                                           bool loose) {
  auto& queue = loose ? loose_ : strict_;
  Expected& e = queue.emplace_back();
  e.type = type;
  e.tag = std::string(tag);
  e.sync_index = sync_index;
  e.order = next_order_++;
  return e;
}

void PreparedStatements::wait_for_plain(char type, std::uint64_t sync_index) {
  plain_.push_back(Plain{type, sync_index, next_order_++});
}

// Applies a client's change now, keeping what it replaces so that it can be undone.
void PreparedStatements::change(Expected& e, std::string_view name, std::optional<PreparedStatement> statement) {
  e.effect = ReplyEffect::kClientChange;
  e.statement = std::string(name);
  if (const auto it = statements_.find(e.statement); it != statements_.end()) {
    e.replaced.emplace_back(it->first, std::move(it->second));
    statements_.erase(it);
  }
  if (statement) e.serial = put(name, std::move(*statement));
}

void PreparedStatements::parsed(std::string_view name, PreparedStatement statement, std::uint64_t sync_index) {
  if (name.empty()) {
    parsed_unnamed(sync_index);
  } else {
    change(wait_for('1', "", sync_index, false), name, std::move(statement));
  }
}

void PreparedStatements::closed(char kind, std::string_view name, std::uint64_t sync_index) {
  if (kind == 'S') {
    change(wait_for('3', "", sync_index, false), name, std::nullopt);
  } else {
    wait_for_plain('3', sync_index);
  }
}

void PreparedStatements::sql_prepare(std::string_view name, PreparedStatement statement, std::uint64_t sync_index,
                                     bool in_parse) {
  change(wait_for('C', "PREPARE", sync_index, in_parse), name, std::move(statement));
}

void PreparedStatements::sql_deallocate(std::string_view name, std::uint64_t sync_index, bool in_parse) {
  change(wait_for('C', "DEALLOCATE", sync_index, in_parse), name, std::nullopt);
}

void PreparedStatements::sql_deallocate_all(std::string_view tag, std::uint64_t sync_index, bool in_parse) {
  Expected& e = wait_for('C', tag, sync_index, in_parse);
  e.effect = ReplyEffect::kClientChange;
  for (auto& [name, s] : statements_) e.replaced.emplace_back(name, std::move(s));
  statements_.clear();
}

void PreparedStatements::expect_own(char type, std::string_view tag, std::uint64_t sync_index, std::string_view name,
                                    ReplyEffect effect) {
  Expected& e = wait_for(type, tag, sync_index, false);
  e.own = true;
  e.effect = effect;
  e.statement = std::string(name);
  if (const PreparedStatement* s = find(name)) e.serial = s->serial;
}

bool PreparedStatements::on_reply(char type, std::string_view body, std::uint64_t sync_index, bool& drop) {
  // The first reply waited for is a plain one or an Expected, whichever was sent first.
  if (!plain_.empty() && (strict_.empty() || plain_.front().order < strict_.front().order)) {
    const Plain& p = plain_.front();
    if (p.sync_index == sync_index && p.type == type) {
      drop = false;
      plain_.pop_front();
      return true;
    }
  } else if (!strict_.empty()) {
    const Expected& e = strict_.front();
    if (e.sync_index == sync_index && e.type == type && (type != 'C' || command_tag(body) == e.tag)) {
      drop = e.own;
      arrived(e);
      strict_.pop_front();
      return true;
    }
  }
  if (type != 'C') return false;
  for (auto it = loose_.begin(); it != loose_.end() && it->sync_index <= sync_index; ++it) {
    if (it->sync_index == sync_index && it->tag == command_tag(body)) {
      drop = false;
      arrived(*it);
      loose_.erase(it);
      return true;
    }
  }
  return false;
}

void PreparedStatements::arrived(const Expected& e) {
  if (e.effect != ReplyEffect::kRemoved && e.effect != ReplyEffect::kPrepared) return;
  if (PreparedStatement* s = with_serial(e.statement, e.serial)) s->on_server = e.effect == ReplyEffect::kPrepared;
}

void PreparedStatements::failed(Expected& e) {
  switch (e.effect) {
    case ReplyEffect::kRemoved:
    case ReplyEffect::kPrepared:
      // The server does not have the text the proxy sent: prepare it again, whatever it is then.
      if (PreparedStatement* s = with_serial(e.statement, e.serial)) {
        s->sent.clear();
        prepare_again_later(*s);
      }
      return;
    case ReplyEffect::kClientChange:
      // Undone only where nothing sent later took its place.
      if (e.serial != 0 && with_serial(e.statement, e.serial) != nullptr) statements_.erase(e.statement);
      for (auto& [name, s] : e.replaced) statements_.try_emplace(name, std::move(s));
      none_stale_.reset();
      return;
    case ReplyEffect::kNone:
      return;
  }
}

void PreparedStatements::on_ready(std::uint64_t sync_index) {
  while (!plain_.empty() && plain_.front().sync_index <= sync_index) plain_.pop_front();
  std::vector<Expected> missed;
  while (!strict_.empty() && strict_.front().sync_index <= sync_index) {
    missed.push_back(std::move(strict_.front()));
    strict_.pop_front();
  }
  for (auto it = loose_.begin(); it != loose_.end();) {
    if (it->sync_index > sync_index) {
      ++it;
      continue;
    }
    missed.push_back(std::move(*it));
    it = loose_.erase(it);
  }
  if (missed.empty()) return;
  // A later change was applied on top of an earlier one: undo the later first.
  std::sort(missed.begin(), missed.end(), [](const Expected& a, const Expected& b) { return a.order > b.order; });
  for (Expected& e : missed) failed(e);
}

}  // namespace pgshim::proxy
