#include "guest/elf_image.h"

#include <elf.h>

#include <cstring>
#include <stdexcept>

namespace kvmrace {

namespace {
template <typename T>
const T& at(std::span<const uint8_t> image, uint64_t off) {
    if (off + sizeof(T) > image.size()) throw std::runtime_error("payload ELF truncated");
    return *reinterpret_cast<const T*>(image.data() + off);
}
}  // namespace

ElfImage::ElfImage(std::span<const uint8_t> image) : image_(image) {
    const auto& eh = at<Elf64_Ehdr>(image, 0);
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_machine != EM_X86_64 || eh.e_type != ET_EXEC)
        throw std::runtime_error("payload is not an x86-64 ELF executable");
    entry_ = eh.e_entry;
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        const auto& ph = at<Elf64_Phdr>(image, eh.e_phoff + uint64_t(i) * eh.e_phentsize);
        if (ph.p_type != PT_LOAD) continue;
        if (ph.p_offset + ph.p_filesz > image.size())
            throw std::runtime_error("payload segment truncated");
        segments_.push_back({ph.p_paddr, image.subspan(ph.p_offset, ph.p_filesz), ph.p_memsz});
    }
}

std::optional<uint64_t> ElfImage::symbol(std::string_view name) const {
    const auto& eh = at<Elf64_Ehdr>(image_, 0);
    for (unsigned i = 0; i < eh.e_shnum; ++i) {
        const auto& sh = at<Elf64_Shdr>(image_, eh.e_shoff + uint64_t(i) * eh.e_shentsize);
        if (sh.sh_type != SHT_SYMTAB) continue;
        const auto& strtab =
            at<Elf64_Shdr>(image_, eh.e_shoff + uint64_t(sh.sh_link) * eh.e_shentsize);
        for (uint64_t off = 0; off + sizeof(Elf64_Sym) <= sh.sh_size; off += sizeof(Elf64_Sym)) {
            const auto& sym = at<Elf64_Sym>(image_, sh.sh_offset + off);
            uint64_t name_off = strtab.sh_offset + sym.st_name;
            if (name_off >= image_.size()) continue;
            const char* s = reinterpret_cast<const char*>(image_.data() + name_off);
            if (std::string_view(s, strnlen(s, image_.size() - name_off)) == name)
                return sym.st_value;
        }
    }
    return std::nullopt;
}

}  // namespace kvmrace
