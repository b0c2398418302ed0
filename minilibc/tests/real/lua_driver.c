/* A minimal stand-alone Lua interpreter (the crates.io lua-src package
 * ships the library without lua.c): runs the script named by argv[1] with
 * the remaining arguments in the global table `arg`, reports errors with a
 * traceback, and exits non-zero on failure. */
#include <stdio.h>
#include <stdlib.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

static int traceback(lua_State *state) {
    const char *message = lua_tostring(state, 1);
    luaL_traceback(state, state, message ? message : "(error object is not a string)", 1);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s script.lua [arguments]\n", argv[0]);
        return 2;
    }
    lua_State *state = luaL_newstate();
    if (!state) {
        fprintf(stderr, "cannot create Lua state: out of memory\n");
        return 1;
    }
    luaL_openlibs(state);
    lua_createtable(state, argc, 1);
    for (int index = 0; index < argc; index++) {
        lua_pushstring(state, argv[index]);
        lua_rawseti(state, -2, index - 1);
    }
    lua_setglobal(state, "arg");
    lua_pushcfunction(state, traceback);
    int status = luaL_loadfile(state, argv[1]);
    if (status == LUA_OK) status = lua_pcall(state, 0, 0, -2);
    if (status != LUA_OK) {
        fprintf(stderr, "lua: %s\n", lua_tostring(state, -1));
        lua_close(state);
        return 1;
    }
    lua_close(state);
    return 0;
}
